import en from '../src/lib/i18n/en.json';
import { useMessages } from '../src/lib/i18n/index.svelte';

export function useEnglish(): void {
  useMessages('en', en as Record<string, string>);
}

export function jsonResponse(status: number, body?: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}
