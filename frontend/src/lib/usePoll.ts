import { useEffect, useRef, useState } from 'react';
import { backoffMs, isFatalPollError } from './usePollVideo';

/**
 * Calls `fn` every `intervalMs` while `active`, handing each answer to `onValue` (the ideas of
 * usePollVideos: errors are reported and retried with exponential backoff up to 10 s; a 401 or 404 stops
 * until `active` or `key` changes). The polling restarts only when `active` or `key` change, not `fn`.
 */
export function usePoll<T>(active: boolean, key: string, fn: () => Promise<T>, onValue: (v: T) => void, intervalMs = 2000) {
  const [error, setError] = useState<unknown>(null);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const onValueRef = useRef(onValue);
  onValueRef.current = onValue;

  useEffect(() => {
    setError(null);
    if (!active) return;
    let live = true;
    let failures = 0;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const tick = async () => {
      try {
        const value = await fnRef.current();
        if (!live) return;
        failures = 0;
        setError(null);
        onValueRef.current(value);
      } catch (e) {
        if (!live) return;
        setError(e);
        if (isFatalPollError(e)) return;
        failures++;
      }
      timer = setTimeout(tick, failures ? backoffMs(failures, intervalMs) : intervalMs);
    };
    timer = setTimeout(tick, intervalMs);
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [active, key, intervalMs]);

  return { error };
}
