import { useCallback, useEffect, useState } from 'react';

/**
 * What `load` answers (null until then), its error, and `reload` (after a failure, or a change made on the
 * page; what was shown stays until the new answer). `load` is memoised by the caller: a new one loads again.
 */
export function useLoad<T>(load: () => Promise<T>) {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const reload = useCallback(() => {
    setError(null);
    load().then(setValue, setError);
  }, [load]);
  useEffect(reload, [reload]);
  return { value, setValue, error, reload };
}
