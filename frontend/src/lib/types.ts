// Objects of the REST API (docs/API.md).

export type Role = 'user' | 'admin';
export type AccountStatus = 'active' | 'suspended';
export type OrgKind = 'association' | 'municipality';
export type MemberRole = 'owner' | 'member' | 'staff';

export interface User {
  id: string;
  displayName: string;
  email: string;
  language: string;
  role: Role;
  emailConfirmed: boolean;
  status: AccountStatus;
  createdAt: string;
}

export interface Member {
  id: string;
  displayName: string;
  role: MemberRole;
  former?: boolean;
}

export interface Organisation {
  id: string;
  kind: OrgKind;
  name: string;
  description: string;
  territory: string;
  verified: boolean;
  createdAt: string;
  members?: Member[];
  myRole?: MemberRole;
}

export interface Membership {
  organisation: Organisation;
  role: MemberRole;
  listed: boolean;
}

export interface Invitation {
  id: string;
  organisationId: string;
  organisationName: string;
  role: MemberRole;
  email?: string;
  createdAt: string;
  expiresAt: string;
}

export interface AccountPage {
  items: User[];
  next: string | null;
}

export interface OutboxMail {
  id: string;
  to: string;
  subject: string;
  body: string;
  createdAt: string;
}
