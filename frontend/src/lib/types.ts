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

// --- forums and proposals

/** One text per language code ({"it": "...", "fr": "..."}). */
export type Texts = Record<string, string>;

export type ForumStatus = 'draft' | 'open' | 'closed';
export type ProposalStatus = 'submitted' | 'evaluation' | 'accepted' | 'rejected' | 'implemented' | 'withdrawn';
export type ProposalSort = 'newest' | 'supports' | 'comments' | 'random';

export interface OrgRef {
  id: string;
  name: string;
  verified: boolean;
}

export interface Person {
  id: string;
  displayName: string;
  former?: boolean;
}

export interface Forum {
  id: string;
  municipality: OrgRef;
  title: Texts;
  description: Texts;
  territory: string;
  languages: string[];
  categories: string[];
  status: ForumStatus;
  opensAt: string | null;
  closesAt: string | null;
  answerDays: number;
  reportLimit: number;
  supportLimit: number;
  personalPosts: boolean;
  acceptsPosts: boolean;
  createdAt: string;
  canManage?: boolean;
  mediator?: boolean;
}

export interface Place {
  name: string;
  lat?: number;
  lng?: number;
}

export interface ProposalSummary {
  id: string;
  forumId: string;
  title: string;
  language: string;
  category: string;
  status: ProposalStatus;
  supports: number;
  comments: number;
  hidden?: boolean;
  author: Person;
  organisation?: OrgRef;
  createdAt: string;
  answeredAt?: string;
  dueAt: string;
  overdue: boolean;
}

export interface Proposal extends ProposalSummary {
  body: string;
  bodyHtml: string;
  place?: Place;
  updatedAt: string;
  supported: boolean;
  canEdit?: boolean;
  canAnswer?: boolean;
}

export interface ProposalPage {
  items: ProposalSummary[];
  next?: string;
  total: number;
}

export interface SupportResult {
  supported: boolean;
  supports: number;
}

/** Events of the `forum:<id>` live room. */
export type ForumEvent =
  | { type: 'proposal.created' | 'proposal.updated'; proposal: ProposalSummary }
  | { type: 'proposal.counts'; id: string; supports: number; comments: number }
  | { type: 'forum.updated'; forum: Forum };
