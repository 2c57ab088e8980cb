// A proposal's discussion: the flat list of the API (each comment after its parent, oldest
// first), the live `comment.created` / `comment.updated` events of the `forum:<id>` room applied
// to it idempotently (by id: the same event twice leaves the list as the first left it), and the
// tree the page shows (three levels: depth 0..2).
import type { Comment, ForumEvent } from './types';

export const MAX_DEPTH = 2;
/** The server lets authors edit a comment for 15 minutes. */
export const EDIT_MINUTES = 15;

/** What every comment of a thread needs to know about the page. */
export interface ThreadContext {
  proposalId: string;
  signedIn: boolean;
  /** new comments and replies are accepted (forum open, proposal not withdrawn) */
  canWrite: boolean;
  saved: (c: Comment) => void;
}

export interface CommentNode {
  comment: Comment;
  replies: CommentNode[];
}

/**
 * upsertComment puts one comment in the list: replaced in place when known, appended otherwise.
 * A live event carries the public view (no `mine`/`editable`): what the person's own answers said
 * about those is kept, except that a deleted or hidden comment is no longer editable.
 */
export function upsertComment(list: readonly Comment[], incoming: Comment): Comment[] {
  if (!incoming || !incoming.id) return list as Comment[];
  const i = list.findIndex((c) => c.id === incoming.id);
  let next: Comment = incoming;
  if (i >= 0) {
    const cur = list[i];
    if (incoming.mine === undefined && cur.mine !== undefined) {
      next = { ...incoming, mine: cur.mine, editable: !!cur.editable && !incoming.deleted && !incoming.hidden };
    }
    if (JSON.stringify(cur) === JSON.stringify(next)) return list as Comment[];
    const out = list.slice();
    out[i] = next;
    return out;
  }
  return [...list, next];
}

/** applyCommentEvent applies one forum-room event to a proposal's comments (pure). */
export function applyCommentEvent(list: readonly Comment[], ev: ForumEvent | null | undefined, proposalId: string): Comment[] {
  if (!ev || typeof ev !== 'object') return list as Comment[];
  if (ev.type !== 'comment.created' && ev.type !== 'comment.updated') return list as Comment[];
  if (ev.proposalId !== proposalId || !ev.comment) return list as Comment[];
  return upsertComment(list, ev.comment);
}

/** commentTree nests the comments under their parents, each level oldest first. */
export function commentTree(list: readonly Comment[]): CommentNode[] {
  const nodes = new Map<string, CommentNode>();
  for (const c of list) nodes.set(c.id, { comment: c, replies: [] });
  const roots: CommentNode[] = [];
  for (const c of list) {
    const n = nodes.get(c.id)!;
    const parent = c.parentId ? nodes.get(c.parentId) : undefined;
    if (parent && parent !== n) parent.replies.push(n);
    else roots.push(n); // a reply whose parent is unknown (not loaded yet) shows at the top level
  }
  const byTime = (a: CommentNode, b: CommentNode) => Date.parse(a.comment.createdAt) - Date.parse(b.comment.createdAt);
  const sort = (ns: CommentNode[]) => {
    ns.sort(byTime);
    for (const n of ns) sort(n.replies);
  };
  sort(roots);
  return roots;
}

/** canReply: replies go three levels deep at most. */
export function canReply(c: Comment): boolean {
  return c.depth < MAX_DEPTH && !c.deleted && !c.hidden;
}
