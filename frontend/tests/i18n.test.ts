// The catalogues: every shipped language has exactly en.json's keys with the same placeholders,
// and every t('key') used in the source exists.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, FIELD_CODES } from '../src/lib/errors';
import { LANGUAGES, fromNavigator } from '../src/lib/i18n/languages';

const dir = join(__dirname, '../src/lib/i18n');
const src = join(__dirname, '../src');

function load(lang: string): Record<string, string> {
  return JSON.parse(readFileSync(join(dir, `${lang}.json`), 'utf8'));
}

const shipped = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -5))
  .sort();
const en = load('en');
const enKeys = Object.keys(en).sort();

function placeholders(s: string): string[] {
  return [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
}

function sourceFiles(d: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|svelte)$/.test(name) && !/\.test\.ts$/.test(name)) out.push(p);
  }
  return out;
}

describe('catalogues', () => {
  it('ship every interface language and nothing else', () => {
    expect(shipped).toEqual([...LANGUAGES].sort());
    for (const required of ['it', 'en', 'fr', 'ar']) expect(shipped).toContain(required);
  });

  for (const lang of shipped) {
    describe(lang, () => {
      const cat = load(lang);
      it('has no key missing from en.json', () => {
        const missing = enKeys.filter((k) => !(k in cat));
        expect(missing, `${lang}.json lacks keys`).toEqual([]);
      });
      it('has no key that en.json lacks', () => {
        const extra = Object.keys(cat).filter((k) => !(k in en));
        expect(extra, `${lang}.json has extra keys`).toEqual([]);
      });
      it('has non-empty strings with the same placeholders as en.json', () => {
        const bad: string[] = [];
        for (const k of enKeys) {
          const v = cat[k];
          if (typeof v !== 'string' || v.trim() === '') bad.push(`${k}: empty`);
          else if (placeholders(v).join() !== placeholders(en[k]).join()) bad.push(`${k}: ${placeholders(v)} vs ${placeholders(en[k])}`);
        }
        expect(bad).toEqual([]);
      });
      if (lang !== 'en') {
        it('is translated, not a copy of English', () => {
          const same = enKeys.filter((k) => cat[k] === en[k] && !/^(app\.name|fields\.named)$/.test(k));
          expect(same.length / enKeys.length, `untranslated: ${same.join(', ')}`).toBeLessThan(0.1);
        });
      }
    });
  }
});

describe('keys used in the source', () => {
  const files = sourceFiles(src);
  const used = new Map<string, string>();
  const dynamic: string[] = [];
  // Catalogue namespaces ("nav", "org", ...): a quoted 'namespace.key' anywhere in the source is a
  // key reference too (tables of keys passed to t() later), and must exist.
  const namespaces = new Set(enKeys.map((k) => k.split('.')[0]));
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/\bt\(\s*(['"`])([^'"`]*)\1/g)) {
      if (m[2].includes('${')) dynamic.push(`${relative(src, f)}: ${m[2]}`);
      else used.set(m[2], relative(src, f));
    }
    for (const m of text.matchAll(/'([a-z]+)\.([A-Za-z0-9_]+)'/g)) {
      if (namespaces.has(m[1]) && !f.endsWith('errors.ts')) used.set(`${m[1]}.${m[2]}`, relative(src, f));
    }
  }

  it('finds keys at all (the scan works)', () => {
    expect(used.size).toBeGreaterThan(100);
  });

  it('are all in en.json', () => {
    const missing = [...used].filter(([k]) => !(k in en)).map(([k, f]) => `${k} (${f})`);
    expect(missing).toEqual([]);
  });

  it('are literal, except the API codes built in errors.ts', () => {
    expect(dynamic.filter((d) => !d.startsWith('lib/errors.ts'))).toEqual([]);
  });

  it('cover every API error code, field code and limit', () => {
    const needed = [
      ...ERROR_CODES.map((c) => `errors.${c}`),
      ...FIELD_CODES.map((c) => `fields.${c}`),
      'errors.unknown',
      'errors.too_many_retry',
      'errors.too_many_retry_minutes',
      'limits.min',
      'limits.max',
      'limits.value',
    ];
    expect(needed.filter((k) => !(k in en))).toEqual([]);
  });

  it('leave no catalogue key unused', () => {
    const dynamicPrefixes = ['errors.', 'fields.', 'limits.'];
    const unused = enKeys.filter((k) => !used.has(k) && !dynamicPrefixes.some((p) => k.startsWith(p)));
    expect(unused).toEqual([]);
  });
});

describe('language choice', () => {
  it('maps browser languages to supported ones', () => {
    expect(fromNavigator(['ar-EG', 'en'])).toBe('ar');
    expect(fromNavigator(['de-DE', 'fr-CA'])).toBe('fr');
    expect(fromNavigator(['zh-Hans-CN'])).toBe('zh');
    expect(fromNavigator(['de'])).toBeNull();
  });
});
