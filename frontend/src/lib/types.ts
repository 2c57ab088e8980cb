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
  /** the viewer runs the forum's co-design workshops (the per-forum role, staff or admin) */
  facilitator?: boolean;
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

/** Where a proposal came from: a cluster or action of a co-design workshop. */
export interface ProposalOrigin {
  workshopId: string;
  workshopTitle: string;
  /** the cluster or action id */
  source: string;
}

export interface Proposal extends ProposalSummary {
  origin?: ProposalOrigin;
  body: string;
  bodyHtml: string;
  place?: Place;
  updatedAt: string;
  supported: boolean;
  canEdit?: boolean;
  canAnswer?: boolean;
  following?: boolean;
  translations?: Translation[];
  canTranslate?: boolean;
}

export interface Translation {
  language: string;
  title: string;
  bodyHtml: string;
  translator: Person;
  machine?: boolean;
  updatedAt: string;
}

export type Stance = 'for' | 'against' | 'neutral';

export interface Comment {
  id: string;
  parentId?: string;
  depth: number;
  author?: Person;
  /** sanitised HTML; empty when deleted or hidden */
  bodyHtml: string;
  stance: Stance;
  deleted?: boolean;
  hidden?: boolean;
  createdAt: string;
  editedAt?: string;
  /** personal fields: only in answers to the person's own requests, never in live events */
  mine?: boolean;
  editable?: boolean;
}

export interface TimelineEntry {
  id: string;
  kind: 'status' | 'update';
  status?: string;
  textHtml: string;
  by?: Person;
  byOrganisation?: OrgRef;
  createdAt: string;
}

export type NotificationKind = 'proposal.answer' | 'proposal.update' | 'comment.reply' | 'moderation';

export interface NotificationItem {
  id: string;
  kind: NotificationKind;
  proposalId: string;
  proposalTitle: string;
  commentId?: string;
  caseId?: string;
  status?: string;
  createdAt: string;
  unread: boolean;
}

export interface Notifications {
  items: NotificationItem[];
  unread: number;
}

/** Events of the private `participant:<id>` room. */
export type ParticipantEvent =
  | { type: 'notification'; notification: Partial<NotificationItem>; unread: number }
  | { type: 'notification.read'; unread: number }
  | { type: "invitation.received" | "account.updated" };

export type ReportReason = 'spam' | 'offensive' | 'personal_data' | 'other';
export type CaseStatus = 'open' | 'hidden' | 'restored' | 'dismissed';
export type CaseAction = 'hide' | 'restore' | 'dismiss';

export interface Case {
  id: string;
  kind: 'proposal' | 'comment';
  targetId: string;
  proposalId: string;
  forumId: string;
  status: CaseStatus;
  reports: number;
  countingReports: number;
  reasons: string[];
  reason?: string;
  appeal?: string;
  author?: Person;
  title?: string;
  bodyHtml?: string;
  verifiedOrganisation?: boolean;
  updatedAt: string;
  notes?: { reason: string; note?: string }[];
}

export interface AuditEntry {
  id: string;
  actor?: Person;
  action: 'hide' | 'restore' | 'dismiss' | 'auto_hide' | 'queue' | 'appeal';
  caseId: string;
  forumId: string;
  reason?: string;
  createdAt: string;
}

export interface Mediator {
  id: string;
  displayName: string;
  former?: boolean;
  since?: string;
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
  | { type: 'forum.updated'; forum: Forum }
  | { type: 'comment.created' | 'comment.updated'; proposalId: string; comment: Comment }
  | { type: 'proposal.timeline'; proposalId: string };
