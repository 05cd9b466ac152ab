// "Send after" as the merchant picks it (a number and minutes, hours or days) and as the settings
// store it (humantime text: "30m", "4h", "3days"). Text the picker cannot show (e.g. "1h 30m") is
// kept as written and edited as text.

const UNITS = [
  { unit: 'minutes', suffix: 'm', pattern: /^(m|min|mins|minute|minutes)$/ },
  { unit: 'hours', suffix: 'h', pattern: /^(h|hr|hrs|hour|hours)$/ },
  { unit: 'days', suffix: 'days', pattern: /^(d|day|days)$/ },
];

export const DELAY_UNITS = UNITS.map((u) => u.unit);

/** `{amount, unit}` for text the picker can show, else `{text}`. */
export function readDelay(text) {
  // An empty amount keeps the picker (the merchant is typing); the API says what is missing.
  const match = /^\s*(\d*)\s*([a-z]+)\s*$/i.exec(text ?? '');
  const unit = match && UNITS.find((u) => u.pattern.test(match[2].toLowerCase()));
  return unit ? { amount: match[1], unit: unit.unit } : { text: text ?? '' };
}

/** The settings' text for a picked delay. */
export function writeDelay({ amount, unit, text }) {
  if (text !== undefined) return text;
  const found = UNITS.find((u) => u.unit === unit) ?? UNITS[0];
  return `${String(amount).trim()}${found.suffix}`;
}
