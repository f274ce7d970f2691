import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { ApiError, type ApiClient } from './api/client';
import type { User } from './api/types';

type Phase = 'restoring' | 'restoreFailed' | 'signedIn' | 'signedOut';

export type RestoreResult = { kind: 'signedIn'; user: User } | { kind: 'signedOut' } | { kind: 'error'; error: unknown };

/**
 * Restores a session after a reload (one refresh, then /auth/me). Only a refusal (400/401) signs out and
 * forgets the tokens; a network failure or a 5xx keeps them so the user can try again.
 */
export async function restoreSession(client: ApiClient): Promise<RestoreResult> {
  try {
    return { kind: 'signedIn', user: await client.me() };
  } catch (error) {
    if (error instanceof ApiError && (error.status === 400 || error.status === 401)) {
      client.clearTokens();
      return { kind: 'signedOut' };
    }
    return { kind: 'error', error };
  }
}

interface Auth {
  client: ApiClient;
  phase: Phase;
  user: User | null;
  /** Set when the session ended on its own (refresh refused), so sign-in can say why. */
  sessionEnded: boolean;
  /** Why the session could not be restored (network, 5xx): shown with a retry button. */
  restoreError: unknown;
  retryRestore: () => void;
  signIn: (email: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ client, children }: { client: ApiClient; children: ReactNode }) {
  const [phase, setPhase] = useState<Phase>(client.hasSession ? 'restoring' : 'signedOut');
  const [user, setUser] = useState<User | null>(null);
  const [sessionEnded, setSessionEnded] = useState(false);
  const [restoreError, setRestoreError] = useState<unknown>(null);

  useEffect(() => {
    client.onSessionEnd = () => {
      setUser(null);
      setSessionEnded(true);
      setPhase('signedOut');
    };
    return () => {
      client.onSessionEnd = undefined;
    };
  }, [client]);

  useEffect(() => {
    if (phase !== 'restoring') return;
    let live = true;
    // A reload keeps the refresh token (sessionStorage): one refresh gives a new access token.
    restoreSession(client).then((r) => {
      if (!live) return;
      if (r.kind === 'signedIn') {
        setUser(r.user);
        setPhase('signedIn');
      } else if (r.kind === 'signedOut') {
        setPhase('signedOut');
      } else {
        setRestoreError(r.error);
        setPhase('restoreFailed');
      }
    });
    return () => {
      live = false;
    };
  }, [client, phase]);

  const signIn = useCallback(
    async (email: string, password: string) => {
      await client.login(email.trim(), password);
      setSessionEnded(false);
      try {
        setUser(await client.me());
      } catch {
        setUser(null);
      }
      setPhase('signedIn');
    },
    [client],
  );

  const retryRestore = useCallback(() => {
    setRestoreError(null);
    setPhase(client.hasSession ? 'restoring' : 'signedOut');
  }, [client]);

  const signOut = useCallback(async () => {
    await client.logout();
    setUser(null);
    setSessionEnded(false);
    setPhase('signedOut');
  }, [client]);

  const value = useMemo(
    () => ({ client, phase, user, sessionEnded, restoreError, retryRestore, signIn, signOut }),
    [client, phase, user, sessionEnded, restoreError, retryRestore, signIn, signOut],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error('useAuth outside AuthProvider');
  return ctx;
}

export function useClient(): ApiClient {
  return useAuth().client;
}
