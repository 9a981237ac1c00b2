/* A preload library that does nothing: the unit tests of `heapwise record` use it in place of
 * the shim, so they test the command's own process handling (exit status, signals, environment)
 * in every build, sanitized ones included, where the real shim cannot be preloaded. */
int heapwise_null_preload_loaded = 1;
