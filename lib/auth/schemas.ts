import { z } from 'zod';
import { bounded, hasNoNul, NUL_MESSAGE, object, typeError } from '../validation.js';

// Django's username and password rules, with its messages.

const USERNAME = /^[\p{L}\p{N}_.@+-]+$/u;
const MAX_PASSWORD = 4096;
/**
 * NFKC composes at most 4 code points into one, so no longer string can normalise to a valid
 * username: it is left as it is for the length check to refuse, instead of being expanded first
 * (one U+FDFA becomes 18 characters).
 */
const MAX_NORMALISED = 4 * 150;

/**
 * Django's normalize_username (NFKC) before any rule, as its UsernameField does: "ａdmin"
 * (full-width a) is "admin", so look-alike names cannot both register.
 */
const nfkc = (input: unknown) =>
  typeof input === 'string' && input.length <= MAX_NORMALISED ? input.normalize('NFKC') : input;

export const username = () =>
  z.preprocess(
    nfkc,
    z
      .string({ error: typeError('Not a valid string.') })
      .min(1, 'This field may not be blank.')
      .max(150, bounded('Ensure this field has no more than 150 characters.'))
      .regex(USERNAME, 'Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.'),
  );

/** Login accepts any string: the rules apply at registration, and a failed login says nothing more. */
const anyPassword = () =>
  z
    .string({ error: typeError('Not a valid string.') })
    .min(1, 'This field may not be blank.')
    .max(MAX_PASSWORD, bounded(`Ensure this field has no more than ${MAX_PASSWORD} characters.`))
    .refine(hasNoNul, NUL_MESSAGE);

export const newPassword = () =>
  anyPassword()
    .refine((p) => p.length >= 8, 'This password is too short. It must contain at least 8 characters.')
    .refine((p) => !/^\d+$/.test(p), 'This password is entirely numeric.');

/**
 * zod's email pattern, run only on a string of Django's length at most. Not an aborting length
 * check: the union below reports the issues of its one option that did not abort.
 */
const EMAIL = z.regexes.email;
const email = () =>
  z
    .string()
    .max(254, 'Ensure this field has no more than 254 characters.')
    .refine((e) => e.length > 254 || EMAIL.test(e), 'Enter a valid email address.')
    .meta({ format: 'email', pattern: EMAIL.source });

export const registerBody = object({
  username: username(),
  password: newPassword(),
  email: z
    .union([z.literal(''), email()], {
      error: (iss) => (iss.input === null ? 'This field may not be null.' : 'Enter a valid email address.'),
    })
    .optional()
    .transform((e) => e ?? ''),
});
export type RegisterInput = z.output<typeof registerBody>;

/** A user as the API answers it (register, me); its SQL is lib/auth/users.ts's `columns`. */
export const userOutput = z.object({
  id: z.number().int().positive().meta({ description: 'Django auth_user.id: an integer' }),
  username: z.string(),
  email: z.string(),
  date_joined: z.iso.datetime(),
});

export const tokenBody = object({
  // Normalised like registration's, so a name typed in full-width finds its account.
  username: z.preprocess(
    nfkc,
    z
      .string({ error: typeError('Not a valid string.') })
      .min(1, 'This field may not be blank.')
      .max(150, bounded('Ensure this field has no more than 150 characters.'))
      .refine(hasNoNul, NUL_MESSAGE),
  ),
  password: anyPassword(),
});

/** Django's PasswordChangeForm, as JSON: the old password (any string), the new one (registration's rules). */
export const changePasswordBody = object({ old_password: anyPassword(), new_password: newPassword() });
export type ChangePasswordInput = z.output<typeof changePasswordBody>;

export const refreshBody = object({ refresh: z.string({ error: typeError('Not a valid string.') }).min(1, 'This field may not be blank.') });
export const verifyBody = object({ token: z.string({ error: typeError('Not a valid string.') }).min(1, 'This field may not be blank.') });
