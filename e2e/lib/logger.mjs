// quiet is an Apollo logger that keeps informational chatter out of the
// test output and prints warnings and errors.
export const quiet = {
  debug() {},
  info() {},
  warn: (...a) => console.warn(...a),
  error: (...a) => console.error(...a),
};
