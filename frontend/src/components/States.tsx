import type { ReactNode } from 'react';
import { errorText, useI18n } from '../i18n';

export function Loading({ label }: { label?: string }) {
  const { t } = useI18n();
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label ?? t('common.loading')}
    </div>
  );
}

export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useI18n();
  return (
    <div className="state state-error" role="alert">
      <p>{errorText(error, t)}</p>
      {onRetry && (
        <button type="button" className="btn btn-secondary" onClick={onRetry}>
          {t('common.retry')}
        </button>
      )}
    </div>
  );
}

/** A list that loads: its error (with "try again"), loading, `empty` when it has nothing, else `children`. */
export function ListState<T>({ items, error, onRetry, empty, children }: {
  items: readonly T[] | null;
  error: unknown;
  onRetry: () => void;
  empty: ReactNode;
  children: (items: readonly T[]) => ReactNode;
}) {
  if (error != null) return <ErrorState error={error} onRetry={onRetry} />;
  if (!items) return <Loading />;
  if (items.length === 0) return <Empty>{empty}</Empty>;
  return <>{children(items)}</>;
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="state state-empty">{children}</div>;
}

/** A status refresh failed; the poller keeps trying (with backoff) unless the error is final. */
export function PollError({ error }: { error: unknown }) {
  const { t } = useI18n();
  return (
    <p className="notice notice-error" role="status">
      {t('poll.error', { reason: errorText(error, t) })}
    </p>
  );
}

/** Why an action (a send, a save) failed, announced where the action is. */
export function ErrorNotice({ error }: { error: unknown }) {
  const { t } = useI18n();
  return (
    <p className="notice notice-error" role="alert">
      {errorText(error, t)}
    </p>
  );
}
