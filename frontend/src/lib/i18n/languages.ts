// The interface languages (the server's insieme.Languages). Each language is named in itself
// (an endonym) in every catalogue's switcher, so a person finds their language whatever the
// current one: these names are deliberately not translated.
export const LANGUAGES = ['it', 'en', 'fr', 'ar', 'sq', 'ro', 'zh', 'uk', 'ka', 'wo'] as const;
export type Language = (typeof LANGUAGES)[number];

export const ENDONYMS: Record<Language, string> = {
  it: 'Italiano',
  en: 'English',
  fr: 'Français',
  ar: 'العربية',
  sq: 'Shqip',
  ro: 'Română',
  zh: '中文',
  uk: 'Українська',
  ka: 'ქართული',
  wo: 'Wolof',
};

export const RTL: ReadonlySet<string> = new Set(['ar']);
export const DEFAULT_LANGUAGE: Language = 'it';
export const STORAGE_KEY = 'insieme.lang';

export function isLanguage(x: unknown): x is Language {
  return typeof x === 'string' && (LANGUAGES as readonly string[]).includes(x);
}

/** fromNavigator picks the first supported language among the browser's preferences. */
export function fromNavigator(langs: readonly string[] | undefined): Language | null {
  for (const l of langs ?? []) {
    const base = l.toLowerCase().split(/[-_]/)[0];
    if (isLanguage(base)) return base;
  }
  return null;
}

function storedChoice(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

/**
 * pickLanguage: the account's preference, else a stored choice, else navigator.language(s),
 * else Italian.
 */
export function pickLanguage(accountLanguage?: string | null): Language {
  if (isLanguage(accountLanguage)) return accountLanguage;
  const stored = storedChoice();
  if (isLanguage(stored)) return stored;
  const nav =
    typeof navigator !== 'undefined'
      ? fromNavigator(navigator.languages?.length ? navigator.languages : [navigator.language])
      : null;
  return nav ?? DEFAULT_LANGUAGE;
}

export function rememberLanguage(lang: Language): void {
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
}
