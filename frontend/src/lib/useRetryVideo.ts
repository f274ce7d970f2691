import { useCallback, useState } from 'react';
import type { ApiClient } from '../api/client';
import type { Video } from '../api/types';

/** POST /videos/{id}/retry with its busy flag and error (shared by the upload panel and the results page). */
export function useRetryVideo(client: ApiClient, onRetried: (v: Video) => void) {
  const [retrying, setRetrying] = useState(false);
  const [retryError, setRetryError] = useState<unknown>(null);
  const retry = useCallback(
    async (id: string) => {
      setRetrying(true);
      setRetryError(null);
      try {
        onRetried(await client.retryVideo(id));
      } catch (e) {
        setRetryError(e);
      } finally {
        setRetrying(false);
      }
    },
    [client, onRetried],
  );
  return { retry, retrying, retryError };
}
