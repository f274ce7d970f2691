/**
 * A video file's duration in seconds, read in the browser from a `<video>` element's metadata (nothing is
 * uploaded for it). Files whose container does not state a duration (e.g. a MediaRecorder WebM) report
 * Infinity until the element is asked to seek past the end; that is done once. Rejects when the browser
 * cannot read the file as a video or nothing arrives within `timeoutMs`.
 */
export function readVideoDuration(file: Blob, timeoutMs = 15_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const el = document.createElement('video');
    const url = URL.createObjectURL(file);
    let settled = false;
    const finish = (value: number | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      el.removeAttribute('src');
      el.load?.();
      URL.revokeObjectURL(url);
      if (value instanceof Error) reject(value);
      else resolve(value);
    };
    const check = () => {
      const d = el.duration;
      if (Number.isFinite(d) && d > 0) finish(d);
      else if (d === Infinity) el.currentTime = Number.MAX_SAFE_INTEGER; // the browser then learns the end
    };
    const timer = setTimeout(() => finish(new Error('duration_unreadable')), timeoutMs);
    el.preload = 'metadata';
    el.muted = true;
    el.addEventListener('loadedmetadata', check);
    el.addEventListener('durationchange', check);
    el.addEventListener('error', () => finish(new Error('duration_unreadable')));
    el.src = url;
  });
}
