import { z } from 'zod';
import { username } from '../auth/schemas.js';
import { object, typeError } from '../validation.js';

// Members of a shared book, invitations and ownership (issue 18): what the endpoints read and answer.

const ROLES = ['owner', 'admin', 'operator', 'viewer'] as const;

/** A user as the API shows one; null for a deleted account. */
const userRef = z.object({ id: z.int(), username: z.string() });

const NOT_BY_ROLE = 'A book has exactly one owner: hand ownership on with POST /api/books/{id}/transfer/ {"user_id": …}.';

/** The role given to a member: any but owner (handed on by /transfer/, never given). */
const memberRole = () =>
  z.enum(['admin', 'operator', 'viewer'], {
    error: (iss) => (iss.input === 'owner' ? NOT_BY_ROLE : typeError(`"${String(iss.input)}" is not a valid choice.`)(iss)),
  });

export const inviteMemberBody = object({ username: username(), role: memberRole() });
export const updateMemberBody = object({ role: memberRole() });
export const transferOwnershipBody = object({
  user_id: z
    .int({ error: typeError('A valid integer is required.') })
    .min(1, 'A valid integer is required.')
    .max(Number.MAX_SAFE_INTEGER, 'A valid integer is required.'),
});

export type InviteMemberInput = z.output<typeof inviteMemberBody>;
export type MemberRole = z.output<ReturnType<typeof memberRole>>;

/** A member of a book (or an invitation not yet answered); its SQL is lib/members/queries.ts's `memberColumns`. */
export const memberOutput = z.object({
  user: userRef,
  role: z.enum(ROLES),
  status: z.enum(['pending', 'active']).meta({ description: '`pending`: invited, not yet accepted (sees nothing of the book)' }),
  invited_by: userRef.nullable().meta({ description: 'Who invited them; null for the book\'s creator or a deleted account' }),
  created_at: z.iso.datetime().meta({ description: 'When they were invited (or created the book)' }),
});

/** One of the caller's pending invitations; its SQL is lib/members/invitations.ts's `invitationColumns`. */
export const invitationOutput = z.object({
  book: z.object({ id: z.uuid(), name: z.string(), currency: z.string() }),
  role: z.enum(ROLES),
  invited_by: userRef.nullable(),
  created_at: z.iso.datetime(),
});

export type Member = z.output<typeof memberOutput>;
export type Invitation = z.output<typeof invitationOutput>;
