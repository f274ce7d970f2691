import { useCallback, useEffect, useState } from 'react';
import { ApiError, type ApiClient } from '../api/client';
import type { ConsentStatement } from '../api/types';

/** The current consent statement (GET /consent), with its error and a way to fetch it again. */
export function useConsent(client: ApiClient) {
  const [statement, setStatement] = useState<ConsentStatement | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    setError(null);
    client.consent().then(
      (s) => live && setStatement(s),
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [client, attempt]);

  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  return { statement, error, reload };
}

/**
 * The consent box of a form that sends a file. When the API refuses the send because the statement changed
 * since it was shown (`sendError` is consent_version_unknown), the box is unticked and `reload` fetches the
 * new statement, to be accepted again.
 */
export function useConsentBox(reload: () => void, sendError: unknown) {
  const [consented, setConsented] = useState(false);
  useEffect(() => {
    if (sendError instanceof ApiError && sendError.code === 'consent_version_unknown') {
      setConsented(false);
      reload();
    }
  }, [sendError, reload]);
  return [consented, setConsented] as const;
}
