// Package mask hides column values before a transformed row leaves riacho.
//
// A model declares its policies with config(masking={...}) in dbt style:
//
//	{{ config(masking={'email': 'hash', 'cpf': 'redact', 'phone': {'policy': 'keep_last', 'n': 4}}) }}
//
// Three policies exist:
//
//   - hash: the first 32 hex characters (128 bits) of HMAC-SHA256(key, value),
//     so equal values still join and group, but cannot be read back without
//     the key;
//   - redact: the constant "[redacted]";
//   - keep_last N: every rune but the last N becomes '*' ("*******1234").
//
// ParsePolicy turns the config value into a Policy; a Masker applies it.
// A nil value stays nil under every policy; other scalars are formatted as
// text first, so a masked column is always a string column.
package mask
