import { useCallback, useEffect, useState } from 'react';
import type { ApiClient } from '../api/client';
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
