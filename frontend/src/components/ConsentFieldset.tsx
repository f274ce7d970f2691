import type { ReactNode } from 'react';
import type { ConsentStatement } from '../api/types';
import { useI18n } from '../i18n';
import { ErrorState, Loading } from './States';

/**
 * A statement to accept before a file is sent (the upload's, or a viewer's): its text in the page's
 * language, the box to tick, its version. Without it: the error of GET /consent with "try again", else
 * `fallback` (loading, by default).
 */
export function ConsentFieldset({ id, legend, agree, statement, checked, onCheck, error, onRetry, fallback }: {
  id: string;
  legend: string;
  /** The label of the box. */
  agree: string;
  statement: Pick<ConsentStatement, 'version' | 'statements'> | null | undefined;
  checked: boolean;
  onCheck: (checked: boolean) => void;
  error: unknown;
  onRetry: () => void;
  fallback?: ReactNode;
}) {
  const { t, locale } = useI18n();
  return (
    <fieldset className="field consent">
      <legend>{legend}</legend>
      {statement ? (
        <>
          <p className="consent-statement" id={`${id}-consent`}>
            {statement.statements[locale] ?? statement.statements.en}
          </p>
          <label className="checkbox">
            <input type="checkbox" checked={checked} aria-describedby={`${id}-consent`} onChange={(e) => onCheck(e.target.checked)} />
            {agree}
          </label>
          <p className="muted small">{t('consent.version', { version: statement.version })}</p>
        </>
      ) : error != null ? (
        <ErrorState error={error} onRetry={onRetry} />
      ) : (
        fallback ?? <Loading />
      )}
    </fieldset>
  );
}
