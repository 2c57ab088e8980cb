// The discussion reducer: live comment events applied idempotently, personal fields kept, the tree.
import { describe, expect, it } from 'vitest';
import { applyCommentEvent, canReply, commentTree, upsertComment } from '../src/lib/comments';
import type { Comment, ForumEvent } from '../src/lib/types';

function comment(id: string, extra: Partial<Comment> = {}): Comment {
  return {
    id,
    depth: 0,
    author: { id: 'a1', displayName: 'Amina' },
    bodyHtml: `<p>${id}</p>`,
    stance: 'neutral',
    createdAt: `2030-01-01T10:00:0${id.length % 10}Z`,
    ...extra,
  };
}

const created = (c: Comment, proposalId = 'p1'): ForumEvent => ({ type: 'comment.created', proposalId, comment: c });
const updated = (c: Comment, proposalId = 'p1'): ForumEvent => ({ type: 'comment.updated', proposalId, comment: c });

describe('applyCommentEvent', () => {
  it('adds a new comment once, however often the event comes', () => {
    const a = comment('c1');
    const once = applyCommentEvent([], created(a), 'p1');
    const twice = applyCommentEvent(once, created(a), 'p1');
    expect(once).toHaveLength(1);
    expect(twice).toBe(once);
  });

  it('ignores other proposals and other events', () => {
    const list = [comment('c1')];
    expect(applyCommentEvent(list, created(comment('c2'), 'p2'), 'p1')).toBe(list);
    expect(applyCommentEvent(list, { type: 'proposal.counts', id: 'p1', supports: 1, comments: 2 }, 'p1')).toBe(list);
    expect(applyCommentEvent(list, null, 'p1')).toBe(list);
  });

  it('replaces an updated comment in place (deleted: placeholder, replies kept)', () => {
    const list = [comment('c1'), comment('c2', { parentId: 'c1', depth: 1 })];
    const next = applyCommentEvent(list, updated(comment('c1', { deleted: true, bodyHtml: '' })), 'p1');
    expect(next).toHaveLength(2);
    expect(next[0].deleted).toBe(true);
    expect(next[1].parentId).toBe('c1');
    expect(applyCommentEvent(next, updated(comment('c1', { deleted: true, bodyHtml: '' })), 'p1')).toBe(next);
  });

  it("keeps the person's own flags from their answer when the public event follows", () => {
    const mine = comment('c1', { mine: true, editable: true });
    const list = upsertComment([], mine);
    const after = applyCommentEvent(list, created(comment('c1')), 'p1');
    expect(after[0].mine).toBe(true);
    expect(after[0].editable).toBe(true);
    const hidden = applyCommentEvent(after, updated(comment('c1', { hidden: true, bodyHtml: '' })), 'p1');
    expect(hidden[0].mine).toBe(true);
    expect(hidden[0].editable).toBe(false);
  });

  it("takes the person's own answer over an earlier public event", () => {
    const list = applyCommentEvent([], created(comment('c1')), 'p1');
    const after = upsertComment(list, comment('c1', { mine: true, editable: true }));
    expect(after).toHaveLength(1);
    expect(after[0].editable).toBe(true);
  });
});

describe('commentTree', () => {
  it('nests replies under their parents, oldest first', () => {
    const list = [
      comment('a', { createdAt: '2030-01-01T10:00:00Z' }),
      comment('b', { createdAt: '2030-01-01T10:01:00Z' }),
      comment('a2', { parentId: 'a', depth: 1, createdAt: '2030-01-01T10:03:00Z' }),
      comment('a1', { parentId: 'a', depth: 1, createdAt: '2030-01-01T10:02:00Z' }),
      comment('a1x', { parentId: 'a1', depth: 2, createdAt: '2030-01-01T10:04:00Z' }),
    ];
    const tree = commentTree(list);
    expect(tree.map((n) => n.comment.id)).toEqual(['a', 'b']);
    expect(tree[0].replies.map((n) => n.comment.id)).toEqual(['a1', 'a2']);
    expect(tree[0].replies[0].replies.map((n) => n.comment.id)).toEqual(['a1x']);
  });

  it('shows a reply whose parent is unknown at the top level', () => {
    const tree = commentTree([comment('r', { parentId: 'missing', depth: 1 })]);
    expect(tree.map((n) => n.comment.id)).toEqual(['r']);
  });

  it('allows replies down to depth 2 only, and not to removed comments', () => {
    expect(canReply(comment('x', { depth: 1 }))).toBe(true);
    expect(canReply(comment('x', { depth: 2 }))).toBe(false);
    expect(canReply(comment('x', { deleted: true }))).toBe(false);
  });
});

describe('caseSegment', async () => {
  const { caseSegment, caseHref } = await import('../src/lib/moderation');
  it('encodes a case id for a path, keeping the colon the server expects', () => {
    expect(caseSegment('comment:p1~ab/c d')).toBe('comment:p1~ab%2Fc%20d');
    expect(caseHref('proposal:p1')).toBe('/moderation/proposal:p1');
  });
});
