import { useState } from 'react';
import { useNavigate } from 'react-router-dom';

/**
 * Deleting the record a page shows: asked first (`question`), then deleted, then the page leaves for `to`
 * (replacing itself in the history: it no longer exists). A failure stays on the page with its error.
 */
export function useDeleteAndLeave(to: string) {
  const navigate = useNavigate();
  const [deleting, setDeleting] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function remove(question: string, del: () => Promise<unknown>) {
    if (!window.confirm(question)) return;
    setDeleting(true);
    setError(null);
    try {
      await del();
      navigate(to, { replace: true });
    } catch (e) {
      setError(e);
      setDeleting(false);
    }
  }

  return { remove, deleting, error };
}
