import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { SessionEnded, type Page, type Role } from './api';

/** A message for the person: an error (announced at once) or a confirmation. */
export interface Notice {
  kind: 'alert' | 'status';
  text: string;
}

export function NoticeLine({ notice }: { notice: Notice | null }) {
  if (!notice) return null;
  return (
    <p role={notice.kind} class={notice.kind}>
      {notice.text}
    </p>
  );
}

/**
 * Runs the actions of one screen: one at a time, `busy` while it runs, its error (the
 * server's message) or its confirmation as a notice. An ended session shows nothing
 * here: the app has already replaced the screen with the sign-in form.
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );
  const run = useCallback(async (action: () => Promise<string | void>): Promise<boolean> => {
    setBusy(true);
    setNotice(null);
    try {
      const done = await action();
      if (mounted.current && done) setNotice({ kind: 'status', text: done });
      return true;
    } catch (error) {
      if (!(error instanceof SessionEnded) && mounted.current) {
        setNotice({ kind: 'alert', text: error instanceof Error ? error.message : String(error) });
      }
      return false;
    } finally {
      if (mounted.current) setBusy(false);
    }
  }, []);
  return { run, busy, notice, setNotice };
}

/** A labelled input: the label wraps it, so it is its accessible name. */
export function Field(props: {
  label: string;
  name: string;
  type?: 'text' | 'email' | 'password' | 'url';
  value: string;
  onInput: (value: string) => void;
  autocomplete?: string;
  required?: boolean;
  minLength?: number;
  hint?: string;
}) {
  const hintId = props.hint ? `${props.name}-hint` : undefined;
  return (
    <label>
      {props.label}
      <input
        name={props.name}
        // (Preact's types pair each input type with its own attributes; these share them.)
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- needed by the JSX union above, which the rule does not see
        type={(props.type ?? 'text') as 'text'}
        value={props.value}
        onInput={(e) => props.onInput(e.currentTarget.value)}
        autocomplete={props.autocomplete}
        required={props.required}
        minLength={props.minLength}
        aria-describedby={hintId}
      />
      {props.hint && <small id={hintId}>{props.hint}</small>}
    </label>
  );
}

/**
 * A secret the server shows once (a client's or a webhook's): in a marked box, in a
 * read-only field that selects itself for copying, with a Copy button. It lives in the
 * screen's memory only: a reload or another screen forgets it, and the server never
 * shows it again.
 */
export function SecretBox({
  title,
  label,
  secret,
  children,
  onDone,
}: {
  title: string;
  label: string;
  secret: string;
  children: ComponentChildren;
  onDone(): void;
}) {
  const [copied, setCopied] = useState<Notice | null>(null);
  const field = useRef<HTMLInputElement>(null);
  const copy = async () => {
    field.current?.select();
    try {
      await navigator.clipboard.writeText(secret);
      setCopied({ kind: 'status', text: 'Copied to the clipboard.' });
    } catch {
      // No clipboard (an insecure origin, a refused permission): the text is selected, ready for Ctrl+C.
      setCopied({ kind: 'alert', text: 'The browser refused the clipboard: the secret is selected, copy it with Ctrl+C (⌘C).' });
    }
  };
  return (
    <article class="secret" aria-labelledby="secret-heading">
      <h2 id="secret-heading">{title}</h2>
      <label>
        {label}
        <input
          ref={field}
          type="text"
          name="secret"
          readOnly
          value={secret}
          autocomplete="off"
          spellcheck={false}
          aria-describedby="secret-hint"
          onFocus={(e) => e.currentTarget.select()}
        />
      </label>
      <p id="secret-hint">{children}</p>
      <NoticeLine notice={copied} />
      <div class="actions">
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
        <button type="button" class="secondary" onClick={onDone}>
          I have stored it
        </button>
      </div>
    </article>
  );
}

/**
 * A destructive action in two steps, as the keys screen revokes: "Delete…" asks, "Delete
 * now" does it, Cancel goes back. `what` names the thing in the buttons' names.
 */
export function Confirm({ action, what, busy, onConfirm }: { action: string; what: string; busy: boolean; onConfirm(): void }) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" class="secondary" disabled={busy} aria-label={`${action} ${what}`} onClick={() => setAsking(true)}>
        {action}…
      </button>
    );
  }
  return (
    <span class="actions">
      <button
        type="button"
        class="contrast"
        disabled={busy}
        aria-label={`Confirm: ${action.toLowerCase()} ${what}`}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {action} now
      </button>
      <button type="button" class="secondary outline" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

export function Submit({ busy, children }: { busy: boolean; children: ComponentChildren }) {
  return (
    <button type="submit" aria-busy={busy} disabled={busy}>
      {children}
    </button>
  );
}

/** A table that scrolls sideways on a phone rather than squeezing its columns. */
export function Table({ caption, head, children, dense }: { caption: string; head: string[]; children: ComponentChildren; dense?: boolean }) {
  return (
    <div class="overflow-auto">
      <table class={dense ? 'striped dense' : 'striped'}>
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {head.map((h) => (
              <th scope="col">{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/**
 * Keyset pages of an admin list: the cursor of each page seen so far (the last one is the
 * page shown). `query` is the list's query string for that page (`take`, the filters that
 * are set, `cursor`); `first` goes back to the first page (new filters); `pager` gives
 * <Pager> its props for the page shown.
 */
export function useCursors(take: number) {
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const cursor = cursors[cursors.length - 1];
  const query = (filters: Record<string, string> = {}) => {
    const params = new URLSearchParams({ take: String(take) });
    for (const [name, value] of Object.entries(filters)) if (value) params.set(name, value);
    if (cursor) params.set('cursor', cursor);
    return params.toString();
  };
  const first = useCallback(() => setCursors([null]), []);
  const pager = (page: Page | null) => ({
    hasPrevious: cursors.length > 1,
    hasNext: !!page?.nextCursor,
    onPrevious: () => setCursors((c) => c.slice(0, -1)),
    onNext: () => page?.nextCursor && setCursors((c) => [...c, page.nextCursor]),
  });
  return { cursor, query, first, pager };
}

/** The filters of a list in the address bar (those that are set), so that the view can be shared or reloaded. */
export function showFilters(filters: Record<string, string>): void {
  const query = new URLSearchParams(Object.entries(filters).filter(([, v]) => v));
  history.replaceState(null, '', `${location.pathname}${query.size ? `?${query}` : ''}`);
}

export function Pager({
  hasPrevious,
  hasNext,
  onPrevious,
  onNext,
  busy,
}: {
  hasPrevious: boolean;
  hasNext: boolean;
  onPrevious(): void;
  onNext(): void;
  busy: boolean;
}) {
  if (!hasPrevious && !hasNext) return null;
  return (
    <div class="pager">
      <button type="button" class="secondary" disabled={!hasPrevious || busy} onClick={onPrevious}>
        Previous page
      </button>
      <button type="button" class="secondary" disabled={!hasNext || busy} onClick={onNext}>
        Next page
      </button>
    </div>
  );
}

const ROLE_LABELS: Record<Role, string> = { USER: 'User', ADMIN: 'Administrator' };
/** Every role, in the order a choice offers them. */
export const ROLES = Object.keys(ROLE_LABELS) as Role[];
/** A role as every screen shows it (the users list, a user's page, My account); one the console does not know, as the server spells it. */
export const roleLabel = (role: Role): string => ROLE_LABELS[role] ?? role;

/** A moment in the reader's locale and time zone; `precise` adds the seconds (the audit log). */
export const when = (iso: string | null, precise = false) =>
  iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: precise ? 'medium' : 'short' }) : '—';

/** A uuid on one line: its first characters on screen, the whole of it on hover and when copied. */
export function ShortId({ id }: { id: string }) {
  return (
    <code class="id short" title={id}>
      {id}
    </code>
  );
}

/** An account in a list: its email on one line, its id on hover; its short id once the account is gone. */
export function Person({ id, email }: { id: string; email: string | null }) {
  return email ? (
    <span class="nowrap" title={id}>
      {email}
    </span>
  ) : (
    <ShortId id={id} />
  );
}

/** "Firefox on Windows" from a User-Agent header, or the header itself. */
export function device(userAgent: string | null): string {
  if (!userAgent) return 'Unknown device';
  const browser =
    /\b(Edg|OPR|Firefox|HeadlessChrome|Chrome|Chromium|Safari)\/[\d.]+/.exec(userAgent)?.[1]?.replace('Edg', 'Edge').replace('OPR', 'Opera') ?? null;
  const os = /\b(Windows|Android|iPhone|iPad|Mac OS X|CrOS|Linux)\b/.exec(userAgent)?.[1]?.replace('Mac OS X', 'macOS').replace('CrOS', 'ChromeOS') ?? null;
  if (!browser) return userAgent.length > 60 ? `${userAgent.slice(0, 60)}…` : userAgent;
  return os ? `${browser} on ${os}` : browser;
}

/** Links inside the app change the view without reloading the page. */
export function navigate(to: string): void {
  history.pushState(null, '', to);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function Link({ to, children, current }: { to: string; children: ComponentChildren; current?: boolean }) {
  return (
    <a
      href={to}
      aria-current={current ? 'page' : undefined}
      onClick={(e) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}
