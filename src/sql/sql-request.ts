/**
 * What a ClickHouse client sends besides its SQL, sorted: query parameters
 * (`param_name`), output settings synclog lets it choose, settings of the HTTP
 * layer it may send and synclog ignores (compression, progress headers,
 * sessions), and everything else, which is refused: no setting may lift the
 * read-only mode or the limits.
 */
import { dictOf, setOwn } from '../dict.js'
import { refused } from './sql-error.js'
import type { AnalystQuery } from './analyst-sql.js'

/** Settings that only shape the output; passed on to the query. */
export const OUTPUT_SETTINGS: ReadonlySet<string> = new Set([
  'output_format_json_quote_64bit_integers', 'output_format_json_quote_64bit_floats', 'output_format_json_quote_decimals',
  'output_format_json_quote_denormals', 'output_format_json_named_tuples_as_objects', 'output_format_json_escape_forward_slashes',
  'output_format_json_validate_utf8', 'output_format_write_statistics', 'output_format_decimal_trailing_zeros',
  'output_format_pretty_max_rows', 'output_format_pretty_max_column_pad_width', 'output_format_pretty_max_value_width',
  'output_format_pretty_color', 'output_format_pretty_grid_charset', 'output_format_pretty_row_numbers',
  'output_format_tsv_crlf_end_of_line', 'output_format_csv_crlf_end_of_line', 'format_csv_delimiter',
  'output_format_arrow_string_as_string', 'output_format_parquet_string_as_string', 'output_format_native_encode_types_in_binary_format',
  'output_format_binary_encode_types_in_binary_format', 'output_format_binary_write_json_as_string', 'output_format_native_write_json_as_string',
  'date_time_output_format', 'session_timezone', 'extremes',
])

/** Request parameters and HTTP-layer settings clients send that change nothing here. */
const IGNORED = new Set([
  'query', 'database', 'default_format', 'user', 'password', 'query_id', 'quota_key', 'session_id', 'session_timeout', 'session_check',
  'compress', 'decompress', 'buffer_size', 'wait_end_of_query', 'client_protocol_version', 'stacktrace', 'enable_http_compression',
  'http_zlib_compression_level', 'send_progress_in_http_headers', 'http_headers_progress_interval_ms', 'http_response_buffer_size',
  'http_wait_end_of_query', 'cancel_http_readonly_queries_on_client_close', 'http_write_exception_in_output_format', 'add_http_cors_header',
  'date_time_input_format', 'input_format_values_interpret_expressions',
])

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** The parameters `{name:Type}` of a query from `param_name=value` pairs; a bad name is refused. */
export function queryParam(name: string, value: string, into: Record<string, string>): void {
  if (!PARAM_NAME.test(name)) throw refused('BAD_ARGUMENTS', `query parameter name '${name}' must be letters, digits and _`)
  setOwn(into, name, value)
}

/** The query a ClickHouse HTTP request asks for: `?query=` then the POST body, a line apart; `formatHeader` is X-ClickHouse-Format. */
export function queryFromParams(params: URLSearchParams, body: string, formatHeader?: string): AnalystQuery {
  const query = params.get('query') ?? ''
  const sql = query !== '' && body !== '' ? `${query}\n${body}` : query + body
  const values = dictOf<string>([])
  const output = new Map<string, string>()
  for (const [key, value] of params) {
    if (key.startsWith('param_')) {
      queryParam(key.slice('param_'.length), value, values)
    } else if (OUTPUT_SETTINGS.has(key)) {
      output.set(key, value)
    } else if (key === 'readonly') {
      if (value !== '1' && value !== '2') throw refused('READONLY', 'readonly cannot be lifted: the SQL endpoint is read-only')
    } else if (!IGNORED.has(key)) {
      throw refused('UNKNOWN_SETTING',
        `setting ${key} cannot be set here: synclog's SQL endpoint runs read-only with fixed limits (output settings such as output_format_json_quote_64bit_integers and date_time_output_format are allowed)`)
    }
  }
  // ClickHouse also takes the default format as the X-ClickHouse-Format request header (the Java client sends it).
  const format = params.get('default_format') ?? formatHeader ?? 'TabSeparated'
  return { sql, params: values, defaultFormat: format === '' ? 'TabSeparated' : format, output }
}
