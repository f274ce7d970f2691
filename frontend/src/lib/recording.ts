/**
 * The viewer's camera and its recording (pages/Watch.tsx): what is asked of the browser, which container
 * the recording uses, and what a refusal means. The browser APIs are passed in, so tests use fakes.
 */

/** The camera only (never the microphone), at about 640x480: enough for the face reader, small to upload. */
export const CAMERA_CONSTRAINTS: MediaStreamConstraints = {
  audio: false,
  video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: 'user' },
};

/** The recording's type, first the browser can record: VP9, then VP8, then whatever WebM it picks. */
export const RECORDING_TYPES = ['video/webm;codecs=vp9', 'video/webm;codecs=vp8', 'video/webm'] as const;

export interface MediaDeps {
  getUserMedia: (c: MediaStreamConstraints) => Promise<MediaStream>;
  MediaRecorder: typeof MediaRecorder;
}

/** The browser's camera and recorder, or null where there are none (an old browser, an insecure page). */
export function browserMedia(): MediaDeps | null {
  if (typeof navigator === 'undefined' || !navigator.mediaDevices?.getUserMedia || typeof MediaRecorder === 'undefined') return null;
  return { getUserMedia: (c) => navigator.mediaDevices.getUserMedia(c), MediaRecorder };
}

/** The first of RECORDING_TYPES the recorder supports, or null (then the recorder chooses). */
export function pickRecordingType(isSupported: (type: string) => boolean): string | null {
  for (const type of RECORDING_TYPES) {
    try {
      if (isSupported(type)) return type;
    } catch {
      /* a browser that throws instead of answering: try the next */
    }
  }
  return null;
}

/** The type to announce for an upload: the container only ("video/webm"), without its codecs. */
export function uploadType(blobType: string | null | undefined): string {
  const base = (blobType ?? '').split(';')[0].trim().toLowerCase();
  return base.startsWith('video/') ? base : 'video/webm';
}

export type CameraProblem = 'refused' | 'unavailable';

/** Why the camera could not be had: the person (or a policy) said no, or there is no usable camera. */
export function cameraProblem(e: unknown): CameraProblem {
  const name = e && typeof e === 'object' && 'name' in e ? String((e as { name: unknown }).name) : '';
  return name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError' ? 'refused' : 'unavailable';
}

/** Turns the camera off (its light too): every track stopped. */
export function stopStream(stream: MediaStream | null | undefined): void {
  stream?.getTracks().forEach((track) => track.stop());
}
