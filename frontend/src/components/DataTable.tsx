import type { ReactNode } from 'react';

/**
 * A table that scrolls sideways on a narrow screen: a heading per column and, with `actions`, a last column
 * of buttons whose heading only screen readers hear. `children` are the body's rows.
 */
export function DataTable({ className, columns, actions, children }: {
  className?: string;
  columns: readonly ReactNode[];
  actions?: string;
  children: ReactNode;
}) {
  return (
    <div className="table-wrap">
      <table className={className ? `table ${className}` : 'table'}>
        <thead>
          <tr>
            {columns.map((c, i) => (
              <th key={i} scope="col">
                {c}
              </th>
            ))}
            {actions && (
              <th scope="col">
                <span className="sr-only">{actions}</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
