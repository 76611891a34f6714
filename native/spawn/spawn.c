/*
 * Starts operator commands with posix_spawn instead of libuv's fork().
 *
 * fork() copies the page tables of the whole server, so its cost grows with the server's
 * memory; glibc's posix_spawn uses clone(CLONE_VM | CLONE_VFORK) and costs the same at any
 * size. It runs on a libuv worker thread, because it blocks its caller until the child has
 * exec'd (hundreds of microseconds here), and the event loop should serve meanwhile. The
 * exit of each child is watched through a pidfd on the event loop, so libuv's own
 * SIGCHLD handling (which only waits for its own children) is left alone.
 *
 * Linux only (pidfd_open needs Linux 5.3; the chdir and closefrom file actions glibc 2.34).
 * When this module cannot be built or loaded, Porthole starts processes with Node's
 * child_process instead.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <paths.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

typedef struct child {
  uv_poll_t poll;
  napi_env env;
  napi_ref on_exit;
  napi_async_context async_context;
  pid_t pid;
  int pidfd;
  int env_alive;
} child_t;

static int pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

/* An Error whose `code` is the errno name (ENOENT, ...), as Node's own errors carry. */
static napi_value errno_error(napi_env env, const char *syscall_name, int err) {
  const char *code = uv_err_name(-err);
  char message[128];
  snprintf(message, sizeof message, "%s %s", syscall_name, code);
  napi_value code_value, message_value, error;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &message_value);
  napi_create_error(env, code_value, message_value, &error);
  return error;
}

static napi_value throw_errno(napi_env env, const char *syscall_name, int err) {
  napi_throw(env, errno_error(env, syscall_name, err));
  return NULL;
}

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return NULL;
}

/* A copy of a JS string, or NULL (with an exception pending) when it is not one. */
static char *copy_string(napi_env env, napi_value value) {
  size_t length;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) return NULL;
  char *text = malloc(length + 1);
  if (text == NULL) return NULL;
  napi_get_value_string_utf8(env, value, text, length + 1, &length);
  return text;
}

static void free_strings(char **strings) {
  if (strings == NULL) return;
  for (char **s = strings; *s != NULL; s++) free(*s);
  free(strings);
}

/* A NULL-terminated copy of a JS array of strings, as argv and envp want. */
static char **copy_strings(napi_env env, napi_value array) {
  uint32_t count;
  if (napi_get_array_length(env, array, &count) != napi_ok) return NULL;
  char **strings = calloc(count + 1, sizeof *strings);
  if (strings == NULL) return NULL;
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    napi_get_element(env, array, i, &item);
    strings[i] = copy_string(env, item);
    if (strings[i] == NULL) {
      free_strings(strings);
      return NULL;
    }
  }
  return strings;
}

/* The PATH the child's own environment sets, or the system default when it sets none. */
static const char *path_of(char **envp) {
  for (char **e = envp; *e != NULL; e++) {
    if (strncmp(*e, "PATH=", 5) == 0) return *e + 5;
  }
  return _PATH_DEFPATH;
}

/*
 * Whether execve might find something at `candidate` (read relative to `cwd` when both are
 * relative). A directory where the program is missing is skipped without starting a child
 * only to learn ENOENT; anything else is left to posix_spawn, which reports the real error.
 */
static int may_exist(const char *cwd, const char *candidate) {
  struct stat st;
  int found;
  if (candidate[0] == '/' || cwd == NULL) {
    found = stat(candidate, &st) == 0;
  } else {
    size_t cwd_length = strlen(cwd), candidate_length = strlen(candidate);
    char *joined = malloc(cwd_length + candidate_length + 2);
    if (joined == NULL) return 1;
    memcpy(joined, cwd, cwd_length);
    joined[cwd_length] = '/';
    memcpy(joined + cwd_length + 1, candidate, candidate_length + 1);
    found = stat(joined, &st) == 0;
    free(joined);
  }
  return found || (errno != ENOENT && errno != ENOTDIR);
}

/*
 * posix_spawn for `file`, searched in the child's PATH when it has no slash, as execvp would:
 * a directory where it is missing is skipped, and EACCES is reported only if no directory had
 * a program that could start. (posix_spawnp would search the server's own PATH instead.)
 * Relative PATH entries resolve in the child's working directory, because the file actions
 * change into it before the exec.
 */
static int spawn_searching(pid_t *pid, const char *file, const char *cwd, posix_spawn_file_actions_t *actions,
                           posix_spawnattr_t *attr, char **argv, char **envp) {
  if (strchr(file, '/') != NULL) return posix_spawn(pid, file, actions, attr, argv, envp);
  const char *path = path_of(envp);
  size_t file_length = strlen(file);
  int result = ENOENT;
  int saw_eacces = 0;
  for (const char *dir = path;; dir++) {
    const char *end = strchrnul(dir, ':');
    size_t dir_length = (size_t)(end - dir);
    char *candidate = malloc(dir_length + file_length + 2);
    if (candidate == NULL) return ENOMEM;
    if (dir_length == 0) {
      memcpy(candidate, file, file_length + 1);
    } else {
      memcpy(candidate, dir, dir_length);
      candidate[dir_length] = '/';
      memcpy(candidate + dir_length + 1, file, file_length + 1);
    }
    result = may_exist(cwd, candidate) ? posix_spawn(pid, candidate, actions, attr, argv, envp) : ENOENT;
    free(candidate);
    if (result == EACCES) saw_eacces = 1;
    else if (result != ENOENT && result != ENOTDIR) return result;
    if (*end == '\0') break;
    dir = end;
  }
  return saw_eacces ? EACCES : result;
}

static void on_close(uv_handle_t *handle) {
  child_t *child = (child_t *)handle;
  if (child->pidfd >= 0) close(child->pidfd);
  if (child->env_alive) {
    napi_delete_reference(child->env, child->on_exit);
    napi_async_destroy(child->env, child->async_context);
  }
  free(child);
}

/* The environment is going away (worker exit, process teardown): stop watching, touch no JS. */
static void on_env_cleanup(void *data) {
  child_t *child = data;
  child->env_alive = 0;
  uv_poll_stop(&child->poll);
  uv_close((uv_handle_t *)&child->poll, on_close);
}

static void call_on_exit(child_t *child, const siginfo_t *info) {
  napi_env env = child->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value fn, recv, argv[2];
  napi_get_reference_value(env, child->on_exit, &fn);
  napi_get_global(env, &recv);
  int exited = info->si_code == CLD_EXITED;
  napi_create_int32(env, exited ? info->si_status : -1, &argv[0]);
  napi_create_int32(env, exited ? 0 : info->si_status, &argv[1]);
  if (napi_make_callback(env, child->async_context, recv, fn, 2, argv, NULL) == napi_pending_exception) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
  napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t *poll, int status, int events) {
  (void)status;
  (void)events;
  child_t *child = (child_t *)poll;
  siginfo_t info;
  memset(&info, 0, sizeof info);
  /* WNOWAIT: the child stays a zombie while JS runs, so its pid (and process group id)
   * cannot be reused before the group has been signalled one last time. */
  if (waitid(P_PID, (id_t)child->pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) return;
  uv_poll_stop(poll);
  call_on_exit(child, &info);
  waitid(P_PID, (id_t)child->pid, &info, WEXITED);
  napi_remove_env_cleanup_hook(child->env, on_env_cleanup, child);
  uv_close((uv_handle_t *)poll, on_close);
}

/* After the exit watch could not be set up: the child must not outlive us unwatched. */
static void kill_and_reap(pid_t pid) {
  kill(-pid, SIGKILL);
  waitpid(pid, NULL, 0);
}

/* Watches an exited-or-running child through its pidfd on this thread's event loop. */
static int watch_exit(napi_env env, pid_t pid, int pidfd, napi_ref on_exit) {
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  child_t *child = calloc(1, sizeof *child);
  if (child == NULL) return ENOMEM;
  child->env = env;
  child->pid = pid;
  child->pidfd = pidfd;
  child->on_exit = on_exit;
  child->env_alive = 1;
  int err = uv_poll_init(loop, &child->poll, pidfd);
  if (err != 0) {
    free(child);
    return -err;
  }
  err = uv_poll_start(&child->poll, UV_READABLE, on_readable);
  if (err != 0) {
    /* The pidfd and the reference stay with the caller, who closes and deletes them. */
    child->env_alive = 0;
    child->pidfd = -1;
    uv_close((uv_handle_t *)&child->poll, on_close);
    return -err;
  }
  napi_value name;
  napi_create_string_utf8(env, "PortholeProcess", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &child->async_context);
  napi_add_env_cleanup_hook(env, on_env_cleanup, child);
  return 0;
}

static void close_pair(int fds[2]) {
  if (fds[0] >= 0) close(fds[0]);
  if (fds[1] >= 0) close(fds[1]);
}

/*
 * One spawn() call. What the worker thread needs is copied out of JS before it starts; what
 * it produces (pid, pidfd, read ends, or an errno and the call that failed) is handed back to
 * the event loop's thread, the only one that may touch JS or the loop.
 */
typedef struct request {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref on_exit;
  char *file, *cwd;
  char **argv, **envp;
  pid_t pid;
  int pidfd;
  int out[2], err[2];
  int error;
  const char *failed;
} request_t;

static void free_request(napi_env env, request_t *req) {
  if (req->work != NULL) napi_delete_async_work(env, req->work);
  close_pair(req->out);
  close_pair(req->err);
  free(req->file);
  free(req->cwd);
  free_strings(req->argv);
  free_strings(req->envp);
  free(req);
}

/* On a libuv worker thread: posix_spawn blocks its caller until the child has exec'd, so
 * the event loop goes on serving meanwhile. No JS, no loop handles here. */
static void spawn_execute(napi_env env, void *data) {
  (void)env;
  request_t *req = data;
  if (pipe2(req->out, O_CLOEXEC) != 0 || pipe2(req->err, O_CLOEXEC) != 0) {
    req->error = errno;
    req->failed = "pipe";
    return;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, req->out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, req->err[1], 2);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  if (req->cwd != NULL) posix_spawn_file_actions_addchdir_np(&actions, req->cwd);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  /* Node ignores SIGPIPE; ignored signals survive exec, so every signal is reset. */
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  int spawn_error = spawn_searching(&req->pid, req->file, req->cwd, &actions, &attr, req->argv, req->envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (spawn_error != 0) {
    req->error = spawn_error;
    req->failed = "spawn";
    return;
  }
  close(req->out[1]);
  close(req->err[1]);
  req->out[1] = req->err[1] = -1;
  req->pidfd = pidfd_open(req->pid);
  if (req->pidfd < 0) {
    req->error = errno;
    req->failed = "pidfd_open";
    kill_and_reap(req->pid);
  }
}

/* Back on the event loop's thread: start watching the child, then settle the promise. */
static void spawn_complete(napi_env env, napi_status status, void *data) {
  request_t *req = data;
  if (status != napi_ok && req->error == 0) {
    req->error = ECANCELED;
    req->failed = "spawn";
  }
  if (req->error == 0) {
    int watch_error = watch_exit(env, req->pid, req->pidfd, req->on_exit);
    if (watch_error != 0) {
      kill_and_reap(req->pid);
      close(req->pidfd);
      req->error = watch_error;
      req->failed = "uv_poll";
    } else {
      req->on_exit = NULL; /* the watch owns it now */
    }
  }
  if (req->error != 0) {
    napi_reject_deferred(env, req->deferred, errno_error(env, req->failed, req->error));
  } else {
    napi_value result, value;
    napi_create_array_with_length(env, 3, &result);
    napi_create_int32(env, req->pid, &value);
    napi_set_element(env, result, 0, value);
    napi_create_int32(env, req->out[0], &value);
    napi_set_element(env, result, 1, value);
    napi_create_int32(env, req->err[0], &value);
    napi_set_element(env, result, 2, value);
    req->out[0] = req->err[0] = -1;
    napi_resolve_deferred(env, req->deferred, result);
  }
  if (req->on_exit != NULL) napi_delete_reference(env, req->on_exit);
  free_request(env, req);
}

/*
 * spawn(file, args, env, cwd, onExit) -> Promise<[pid, stdoutFd, stderrFd]>
 * args includes argv[0]; env is a list of "NAME=value"; cwd may be undefined.
 * The child leads a new session (so its process group id is its pid), reads /dev/null,
 * writes into two pipes, starts with default signal handling and an empty signal mask,
 * and inherits no file descriptor but those three. The promise rejects with an errno-coded
 * Error when the child cannot start. onExit(code, signal) runs once the child has exited,
 * before it is reaped: code is -1 when a signal ended it, signal 0 otherwise.
 */
static napi_value spawn_process(napi_env env, napi_callback_info callback_info) {
  size_t argc = 5;
  napi_value args[5];
  napi_get_cb_info(env, callback_info, &argc, args, NULL, NULL);
  if (argc < 5) return throw_type(env, "spawn(file, args, env, cwd, onExit) takes five arguments");

  napi_valuetype cwd_type, on_exit_type;
  napi_typeof(env, args[3], &cwd_type);
  napi_typeof(env, args[4], &on_exit_type);
  if (on_exit_type != napi_function) return throw_type(env, "onExit must be a function");

  request_t *req = calloc(1, sizeof *req);
  if (req == NULL) return throw_errno(env, "spawn", ENOMEM);
  req->out[0] = req->out[1] = req->err[0] = req->err[1] = req->pidfd = -1;
  req->file = copy_string(env, args[0]);
  req->argv = copy_strings(env, args[1]);
  req->envp = copy_strings(env, args[2]);
  req->cwd = cwd_type == napi_undefined ? NULL : copy_string(env, args[3]);
  if (req->file == NULL || req->argv == NULL || req->envp == NULL || (cwd_type != napi_undefined && req->cwd == NULL)) {
    free_request(env, req);
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) throw_type(env, "file, args, env and cwd must be strings");
    return NULL;
  }

  napi_value promise, name;
  napi_create_promise(env, &req->deferred, &promise);
  napi_create_reference(env, args[4], 1, &req->on_exit);
  napi_create_string_utf8(env, "PortholeSpawn", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, spawn_execute, spawn_complete, req, &req->work);
  if (napi_queue_async_work(env, req->work) != napi_ok) {
    napi_delete_reference(env, req->on_exit);
    napi_reject_deferred(env, req->deferred, errno_error(env, "spawn", EAGAIN));
    free_request(env, req);
  }
  return promise;
}

/* Whether this kernel has pidfd_open, checked once at load on our own pid. */
static napi_value supported(napi_env env) {
  int pidfd = pidfd_open(getpid());
  napi_value value;
  napi_get_boolean(env, pidfd >= 0, &value);
  if (pidfd >= 0) close(pidfd);
  return value;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "spawn", NAPI_AUTO_LENGTH, spawn_process, NULL, &fn);
  napi_set_named_property(env, exports, "spawn", fn);
  napi_set_named_property(env, exports, "supported", supported(env));
  return exports;
}
