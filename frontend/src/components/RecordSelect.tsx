/** A choice among records by id, its first option the empty "none chosen" (value ''). */
export function RecordSelect({ id, value, onChange, none, items }: {
  id?: string;
  value: string;
  onChange: (id: string) => void;
  none: string;
  items: readonly { id: string; name: string }[];
}) {
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">{none}</option>
      {items.map((r) => (
        <option key={r.id} value={r.id}>
          {r.name}
        </option>
      ))}
    </select>
  );
}
