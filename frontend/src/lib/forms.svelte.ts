// A form's busy flag and last API error; run() submits, and on failure moves focus to the first
// invalid input (or the form's alert) so keyboard and screen-reader users land on the problem.
import { tick } from 'svelte';
import { asApiError, type ApiError } from './api';

export class FormState {
  busy = $state(false);
  error = $state<ApiError | null>(null);

  async run(form: HTMLElement | null | undefined, fn: () => Promise<void>): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    this.error = null;
    try {
      await fn();
      return true;
    } catch (e) {
      this.error = asApiError(e);
      await tick();
      const target =
        form?.querySelector<HTMLElement>('[aria-invalid="true"]') ?? form?.querySelector<HTMLElement>('.alert');
      if (target) {
        if (!target.matches('input, select, textarea, button')) target.setAttribute('tabindex', '-1');
        target.focus();
      }
      return false;
    } finally {
      this.busy = false;
    }
  }

  reset(): void {
    this.error = null;
  }
}
