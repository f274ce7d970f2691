/** A row of buttons of which one is chosen (aria-pressed), e.g. emotions or reactions. */
export function Segmented<V extends string>({ label, options, value, onChange }: {
  /** The group's accessible name. */
  label: string;
  options: readonly { value: V; label: string }[];
  value: V;
  onChange: (v: V) => void;
}) {
  return (
    <div className="segmented" role="group" aria-label={label}>
      {options.map((o) => (
        <button
          key={o.value}
          type="button"
          className={`btn btn-small${value === o.value ? ' btn-primary' : ' btn-secondary'}`}
          aria-pressed={value === o.value}
          onClick={() => onChange(o.value)}
        >
          {o.label}
        </button>
      ))}
    </div>
  );
}
