import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { ApiClient } from './api/client';
import type { User } from './api/types';

type Phase = 'restoring' | 'signedIn' | 'signedOut';

interface Auth {
  client: ApiClient;
  phase: Phase;
  user: User | null;
  /** Set when the session ended on its own (refresh refused), so sign-in can say why. */
  sessionEnded: boolean;
  signIn: (email: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ client, children }: { client: ApiClient; children: ReactNode }) {
  const [phase, setPhase] = useState<Phase>(client.hasSession ? 'restoring' : 'signedOut');
  const [user, setUser] = useState<User | null>(null);
  const [sessionEnded, setSessionEnded] = useState(false);

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
    client
      .me()
      .then((u) => {
        if (!live) return;
        setUser(u);
        setPhase('signedIn');
      })
      .catch(() => {
        if (!live) return;
        client.clearTokens();
        setPhase('signedOut');
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

  const signOut = useCallback(async () => {
    await client.logout();
    setUser(null);
    setSessionEnded(false);
    setPhase('signedOut');
  }, [client]);

  const value = useMemo(
    () => ({ client, phase, user, sessionEnded, signIn, signOut }),
    [client, phase, user, sessionEnded, signIn, signOut],
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
