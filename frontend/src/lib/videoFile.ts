/** What the upload accepts as a video, checked in the browser before anything is sent. */

const VIDEO_EXT: Record<string, string> = {
  mp4: 'video/mp4', m4v: 'video/mp4', mov: 'video/quicktime', webm: 'video/webm', mkv: 'video/x-matroska',
  avi: 'video/x-msvideo', mpeg: 'video/mpeg', mpg: 'video/mpeg', '3gp': 'video/3gpp', ogv: 'video/ogg',
};

/** The file's video content type; from its extension when the browser gave none; null if not a video. */
export function videoContentType(file: Pick<File, 'name' | 'type'>): string | null {
  if (file.type.startsWith('video/')) return file.type;
  if (file.type) return null;
  const ext = file.name.split('.').pop()?.toLowerCase() ?? '';
  return VIDEO_EXT[ext] ?? null;
}

export type FileProblem = 'notVideo' | 'tooLarge';

/**
 * Why this file cannot be uploaded, or null. `maxBytes` is the API's limit from /config.json; null when the
 * configuration did not say, and then the API's own answer (413) is the only check.
 */
export function fileProblem(file: Pick<File, 'name' | 'type' | 'size'>, maxBytes: number | null): FileProblem | null {
  if (!videoContentType(file)) return 'notVideo';
  if (maxBytes != null && file.size > maxBytes) return 'tooLarge';
  return null;
}
