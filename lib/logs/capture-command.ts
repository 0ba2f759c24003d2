/**
 * The stdout capture: a bash wrapper around the app's own command. bash creates the log
 * file, starts one awk process behind a pipe, points the app's stdout and stderr at that
 * pipe and `exec`s the app, so the app keeps bash's PID (PID 1 of the container) and gets
 * SIGTERM itself. awk writes every line to the container's stdout (`kubectl logs` keeps
 * working) and appends it to the log file; once the file reaches the rotation size it is
 * renamed to `<file>.1` (replacing the previous one) and a new file is started, so the shared
 * emptyDir never holds more than two files. Pure: no I/O.
 *
 * The image needs bash, awk (mawk, gawk or busybox; mawk is told to read line by line), `mv` and `wc`.
 */

/** `$0` of the wrapper script, shown by `ps` and in bash's own error messages. */
export const CAPTURE_SCRIPT_NAME = 'log-capture';

/**
 * The script; its arguments are the log file, the rotation size in bytes, then the app's command.
 * awk counts bytes under LC_ALL=C. `print >> file` keeps the file open in append mode.
 */
export const CAPTURE_SCRIPT = [
  '# The app runs as this process (PID 1: it gets the signals). awk',
  '# copies each line of its stdout and stderr to stdout and to the',
  '# log file, renamed to <file>.1 when it reaches the rotation size.',
  'log_file=$1 rotate_bytes=$2',
  'shift 2',
  ': >>"$log_file" || exit 70',
  '# mawk (Debian\'s awk) reads a pipe in blocks unless told otherwise.',
  'case $(awk -W version 2>&1) in *mawk*) line_mode=(-W interactive) ;; *) line_mode=() ;; esac',
  'exec "$@" > >(',
  '  export LC_ALL=C',
  '  exec awk "${line_mode[@]}" -v file="$log_file" -v max="$rotate_bytes" \\',
  '    -v size="$(wc -c <"$log_file")" \'',
  '    { print; fflush(); print >> file; fflush(file)',
  '      size += length($0) + 1',
  '      if (size < max) next',
  '      close(file); size = 0',
  '      system("mv -f -- \\"" file "\\" \\"" file ".1\\"") }\'',
  ') 2>&1',
].join('\n');

/**
 * The wrapper to put before the app's command, e.g.
 * `['bash', '-c', CAPTURE_SCRIPT, 'log-capture', '/var/log/pronto/app.log', '16777216']`.
 * Kubernetes' `$(VAR)` expansion must not touch it: pass it to `PodExtensionPoint.wrapAppCommand`, which escapes it.
 */
export function stdoutCaptureWrapper(logFile: string, rotateBytes: number): string[] {
  if (!logFile.startsWith('/') || /["\\$`\s]/.test(logFile)) {
    throw new Error(`log file "${logFile}": expected an absolute path without quotes, backslashes, $, backquotes or spaces (awk passes it to mv)`);
  }
  if (!Number.isInteger(rotateBytes) || rotateBytes < 1) throw new Error(`rotation size: expected a whole number of bytes above zero, found ${rotateBytes}`);
  return ['bash', '-c', CAPTURE_SCRIPT, CAPTURE_SCRIPT_NAME, logFile, String(rotateBytes)];
}
