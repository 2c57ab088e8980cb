// Status messages ("Saved.", "Signed out.") shown in one polite live region in the layout, so
// screen readers announce them and everybody sees them. A message announced just before a
// navigation survives that navigation (keep: true) and is cleared by the next one.
export const status = $state<{ message: string; kind: 'info' | 'success'; keep: boolean; n: number }>({
  message: '',
  kind: 'info',
  keep: false,
  n: 0,
});

export function announce(message: string, opts: { kind?: 'info' | 'success'; keep?: boolean } = {}): void {
  status.message = message;
  status.kind = opts.kind ?? 'success';
  status.keep = opts.keep ?? false;
  status.n++;
}

export function clearStatus(): void {
  if (status.keep) {
    status.keep = false;
    return;
  }
  status.message = '';
}
