import { changePasswordBody, refreshBody, registerBody, tokenBody, userOutput, verifyBody } from '../auth/schemas.js';
import * as out from '../openapi/responses.js';
import { invalidBody, ok, type Route, unauthenticated } from './route.js';

// Registration and SimpleJWT-compatible tokens: part of the route table (lib/routes/index.ts).

export const ACCOUNT_ROUTES = {
  register: {
    method: 'POST', path: '/api/register', summary: 'Create an account', tag: 'accounts', auth: false, database: true,
    body: ['RegisterRequest', registerBody],
    responses: {
      201: ok('The new user', ['User', userOutput]),
      400: invalidBody,
      403: { description: 'Registration is closed (REGISTRATION_ENABLED=false, e.g. during a cutover from the old backend)', json: ['Detail', out.detail] },
      429: { description: 'Too many registrations from this source; retry after Retry-After seconds', json: ['DetailWithCode', out.detailWithCode], headers: ['Retry-After'] },
    },
  },
  obtainToken: {
    method: 'POST', path: '/api/token', summary: 'Log in: obtain an access and a refresh token', tag: 'accounts', auth: false, database: true,
    body: ['TokenRequest', tokenBody],
    responses: {
      200: ok('Tokens', ['TokenPair', out.tokenPair]),
      400: invalidBody,
      401: { description: 'Wrong username or password (the same answer for both)', json: ['Detail', out.detail] },
      429: { description: 'Too many failed logins (for this username from this source, from this source, or for this username from unknown sources); retry after Retry-After seconds', json: ['DetailWithCode', out.detailWithCode], headers: ['Retry-After'] },
    },
  },
  refreshToken: {
    method: 'POST', path: '/api/token/refresh', summary: 'A new access token from a refresh token', tag: 'accounts', auth: false, database: true,
    body: ['RefreshRequest', refreshBody],
    responses: { 200: ok('A new access token (and refresh token when rotating)', ['AccessToken', out.accessToken]), 400: invalidBody, 401: unauthenticated },
  },
  verifyToken: {
    method: 'POST', path: '/api/token/verify', summary: 'Check a token', tag: 'accounts', auth: false, database: false,
    body: ['VerifyRequest', verifyBody],
    responses: { 200: ok('Valid', ['Empty', out.empty]), 400: invalidBody, 401: unauthenticated },
  },
  blacklistToken: {
    method: 'POST', path: '/api/token/blacklist', summary: 'Log out: this refresh token stops working', tag: 'accounts', auth: false, database: true,
    body: ['RefreshRequest', refreshBody],
    responses: {
      200: ok('Blacklisted', ['Empty', out.empty]),
      400: invalidBody,
      401: { description: 'Invalid, expired or wrong-type token, or one already blacklisted or revoked', json: ['DetailWithCode', out.detailWithCode], headers: ['WWW-Authenticate'] },
    },
  },
  revokeTokens: {
    method: 'POST', path: '/api/token/revoke', summary: 'Log out everywhere: every token of the caller issued until now stops working', tag: 'accounts', auth: true, database: true,
    responses: { 204: ok('Revoked: refresh tokens at once, access tokens (this one too) on their next use; a login right after works'), 401: unauthenticated },
  },
  changePassword: {
    method: 'POST', path: '/api/password/change', summary: 'Change the password; every token issued until now stops working', tag: 'accounts', auth: true, database: true,
    body: ['ChangePasswordRequest', changePasswordBody],
    responses: {
      204: ok('Changed; every session ends, this one too: log in again with the new password'),
      400: invalidBody,
      401: unauthenticated,
      409: { description: 'The password was changed by another request meanwhile', json: ['Detail', out.detail] },
      429: { description: 'Too many wrong old passwords for this account (LOGIN_MAX_FAILURES per LOGIN_WINDOW_SECONDS); retry after Retry-After seconds', json: ['DetailWithCode', out.detailWithCode], headers: ['Retry-After'] },
    },
  },
  getMe: {
    method: 'GET', path: '/api/me', summary: 'The current user', tag: 'accounts', auth: true, database: true,
    responses: { 200: ok('The user', ['User', userOutput]), 401: unauthenticated },
  },
} satisfies Record<string, Route>;
