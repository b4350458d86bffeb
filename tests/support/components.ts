import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { describe, it } from 'vitest';
import { isTruthyEnv } from '../../scripts/lib/env-flag.js';
import { pgbouncerBinary } from '../../scripts/lib/pgbouncer.js';

// What a few suites need that npm cannot install. On a bare machine (Node.js and npm only, as the
// README promises) those suites are skipped and the run ends with one line per skipped file saying
// how to install the missing part (tests/support/summary-reporter.ts prints it). Under CI=true a
// missing component fails the suite instead: CI installs everything, so a skip there would hide
// a suite that silently stopped running.
//
// TEST_HIDE_COMPONENTS=pgbouncer,django,chromium,poppler,openpyxl makes installed components count as missing,
// to see (and test) a bare machine's run on a full one.

export const PYTHON = '/usr/bin/python3';
export const CHROMIUM = '/usr/bin/chromium';

export type Component = 'pgbouncer' | 'django' | 'chromium' | 'poppler' | 'openpyxl';

interface ComponentInfo {
  label: string;
  install: string;
  installed(): boolean;
}

export const COMPONENTS: Record<Component, ComponentInfo> = {
  pgbouncer: {
    label: 'PgBouncer',
    install: 'Debian: apt-get install pgbouncer; macOS: brew install pgbouncer',
    // The same lookup startPgBouncer uses (PATH, then /usr/sbin).
    installed: () => pgbouncerBinary() !== undefined,
  },
  django: {
    label: `Django, DRF, SimpleJWT and psycopg2 for ${PYTHON}`,
    install:
      'Debian: apt-get install python3-django python3-djangorestframework python3-djangorestframework-simplejwt python3-psycopg2',
    installed: () =>
      spawnSync(PYTHON, ['-c', 'import django, rest_framework, rest_framework_simplejwt, psycopg2'], { stdio: 'ignore' }).status === 0,
  },
  poppler: {
    label: 'poppler-utils (pdftotext, pdftoppm)',
    install: 'Debian: apt-get install poppler-utils; macOS: brew install poppler',
    installed: () => ['pdftotext', 'pdftoppm'].every((tool) => spawnSync(tool, ['-v'], { stdio: 'ignore' }).status === 0),
  },
  openpyxl: {
    label: `openpyxl for ${PYTHON}`,
    install: 'Debian: apt-get install python3-openpyxl',
    installed: () => spawnSync(PYTHON, ['-c', 'import openpyxl'], { stdio: 'ignore' }).status === 0,
  },
  chromium: {
    label: `Chromium at ${CHROMIUM}`,
    install: 'Debian: apt-get install chromium',
    installed: () => {
      try {
        accessSync(CHROMIUM, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    },
  },
};

const isComponent = (name: string): name is Component => Object.hasOwn(COMPONENTS, name);

function hidden(): Set<Component> {
  const names = (process.env.TEST_HIDE_COMPONENTS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !isComponent(n));
  // A typo would otherwise hide nothing and the "bare machine" run would quietly be a full one.
  if (unknown.length) throw new Error(`TEST_HIDE_COMPONENTS: unknown ${unknown.join(', ')} (known: ${Object.keys(COMPONENTS).join(', ')})`);
  return new Set(names as Component[]);
}

/** True under CI=true (or 1, yes): a missing component fails its suites instead of skipping them. */
export function componentsRequired(): boolean {
  return isTruthyEnv(process.env.CI);
}

const cache = new Map<Component, boolean>();

/** Whether the component is installed (and not hidden); detected once per process. */
export function isInstalled(component: Component): boolean {
  if (hidden().has(component)) return false;
  let found = cache.get(component);
  if (found === undefined) {
    found = COMPONENTS[component].installed();
    cache.set(component, found);
  }
  return found;
}

/** "PgBouncer (Debian: apt-get install pgbouncer; …; .ci/run installs it)" */
export function describeMissing(component: Component): string {
  const { label, install } = COMPONENTS[component];
  const why = hidden().has(component) ? ' [hidden by TEST_HIDE_COMPONENTS]' : '';
  return `${label} (${install}; .ci/run installs it)${why}`;
}

declare module 'vitest' {
  interface TaskMeta {
    /**
     * Set on a suite skipped for missing components: each one's name and how to install it
     * (printed by tests/support/summary-reporter.ts).
     */
    missingComponents?: string[];
  }
}

/**
 * `describe` for a suite that needs components npm cannot provide. All present: an ordinary
 * describe. Some missing: skipped, and the summary names them with how to install them; under
 * CI=true one failing test that says what is missing takes the suite's place.
 */
export function describeWith(needs: Component[], name: string, fn: () => void): void {
  const missing = needs.filter((c) => !isInstalled(c));
  if (!missing.length) {
    describe(name, fn);
  } else if (componentsRequired()) {
    describe(name, () => {
      it(`needs ${missing.map((c) => COMPONENTS[c].label).join(' and ')}`, () => {
        throw new Error(`missing under CI=true (a failure, not a skip): ${missing.map(describeMissing).join('; ')}`);
      });
    });
  } else {
    describe(name, { skip: true, meta: { missingComponents: missing.map(describeMissing) } }, fn);
  }
}
