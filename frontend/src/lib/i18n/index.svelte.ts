// The message catalogue: t(key, params) reads the current language's catalogue. The state is
// a rune, so every template that calls t() re-renders when the language changes. Catalogues are
// loaded on demand, one small chunk per language, so a phone downloads only its own language.
import { DEFAULT_LANGUAGE, RTL, isLanguage, rememberLanguage, type Language } from './languages';

export type Messages = Record<string, string>;
export type Params = Record<string, string | number>;

const loaders = import.meta.glob<Messages>('./*.json', { import: 'default' });

const i18n = $state<{ lang: Language; messages: Messages }>({ lang: DEFAULT_LANGUAGE, messages: {} });

/** t translates a key; {name} placeholders are replaced by params. A missing key shows itself. */
export function t(key: string, params?: Params): string {
  const msg = i18n.messages[key] ?? key;
  if (!params) return msg;
  return msg.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

export function lang(): Language {
  return i18n.lang;
}

export function isRTL(): boolean {
  return RTL.has(i18n.lang);
}

export async function loadCatalogue(l: Language): Promise<Messages> {
  const load = loaders[`./${l}.json`];
  if (!load) throw new Error(`no catalogue for ${l}`);
  return load();
}

/** setLanguage loads a catalogue, switches to it and sets <html lang dir>. */
export async function setLanguage(l: string, opts: { remember?: boolean } = {}): Promise<void> {
  const next: Language = isLanguage(l) ? l : DEFAULT_LANGUAGE;
  if (opts.remember) rememberLanguage(next); // before loading: a reload meanwhile keeps the choice
  const messages = await loadCatalogue(next);
  i18n.messages = messages;
  i18n.lang = next;
  if (typeof document !== 'undefined') {
    document.documentElement.lang = next;
    document.documentElement.dir = RTL.has(next) ? 'rtl' : 'ltr';
  }
}

/** useMessages installs a catalogue directly (tests). */
export function useMessages(l: Language, messages: Messages): void {
  i18n.messages = messages;
  i18n.lang = l;
}

export function formatDate(iso: string | undefined | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  try {
    return new Intl.DateTimeFormat(i18n.lang, { dateStyle: 'medium' }).format(d);
  } catch {
    return d.toISOString().slice(0, 10);
  }
}

export function formatDateTime(iso: string | undefined | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  try {
    return new Intl.DateTimeFormat(i18n.lang, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
  } catch {
    return d.toISOString().replace('T', ' ').slice(0, 16);
  }
}
