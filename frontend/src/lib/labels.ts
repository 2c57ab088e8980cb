// Catalogue text for enumerated API values (literal keys, so the catalogue test sees them).
import { t } from './i18n/index.svelte';
import type { MemberRole, OrgKind } from './types';

export function roleLabel(role: MemberRole | string): string {
  switch (role) {
    case 'owner':
      return t('role.owner');
    case 'staff':
      return t('role.staff');
    case 'member':
      return t('role.member');
    default:
      return role;
  }
}

export function kindLabel(kind: OrgKind | string): string {
  switch (kind) {
    case 'association':
      return t('kind.association');
    case 'municipality':
      return t('kind.municipality');
    default:
      return kind;
  }
}

/** The roles an owner may give in an organisation of this kind. */
export function rolesFor(kind: OrgKind | string): MemberRole[] {
  return kind === 'municipality' ? ['staff', 'owner'] : ['member', 'owner'];
}

export function personName(p: { displayName: string; former?: boolean }): string {
  return p.former || !p.displayName ? t('people.former') : p.displayName;
}
