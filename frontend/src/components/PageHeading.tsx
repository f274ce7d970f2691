import { useEffect, useRef, type ReactNode } from 'react';
import { Link, useLocation } from 'react-router-dom';

let lastPath: string | null = null;

/** Sets `document.title` to "<title> · Emotionfy" while the page is shown. */
export function usePageTitle(title: string) {
  useEffect(() => {
    document.title = `${title} · Emotionfy`;
  }, [title]);
}

/**
 * The page's h1. After a route change (not on the first load) it takes the focus, so keyboard and screen
 * reader users start at the new page's heading instead of wherever the old page left them.
 */
export function PageHeading({ children, className, id }: { children: ReactNode; className?: string; id?: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  const { pathname } = useLocation();
  useEffect(() => {
    if (lastPath !== null && lastPath !== pathname) ref.current?.focus();
    lastPath = pathname;
  }, [pathname]);
  return (
    <h1 ref={ref} id={id} tabIndex={-1} className={className}>
      {children}
    </h1>
  );
}

/** "← back" above a page's heading, to the list the page belongs to. */
export function BackLink({ to, children }: { to: string; children: ReactNode }) {
  return (
    <Link to={to} className="back-link">
      ← {children}
    </Link>
  );
}
