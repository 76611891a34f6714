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
 * Its two pipes are read here too, not through Node streams: a net.Socket per pipe, with its
 * stream machinery and events, cost more of the event loop than the rest of a short command
 * together. Whatever happened to a child in one turn of the loop (output, ends, exit) reaches
 * JS in one call.
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
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

/* Bits of the `events` argument of onEvents: what happened since JS last heard. */
enum { STDOUT_END = 1, STDERR_END = 2, EXITED = 4 };
/* Bits of stopReading's `streams` argument. */
enum { STDOUT = 1, STDERR = 2 };

/* At most this much is read from one pipe per readiness event, so one flood cannot hold up the loop. */
#define READ_LIMIT (64 * 1024)

struct child;

typedef struct stream {
  uv_poll_t poll;
  struct child *child;
  int fd;
  int ended;    /* EOF, a read error, or reading stopped */
  int reported; /* JS has been told it ended */
  char *data;   /* read but not yet handed to JS */
  size_t length, capacity;
} stream_t;

typedef struct state state_t;

typedef struct child {
  state_t *state;
  struct child *prev, *next; /* the live list, to find a child by id */
  struct child *next_queued;
  int queued;
  uint32_t id;
  napi_ref on_events;
  napi_async_context async_context;
  pid_t pid;
  int pidfd;
  uv_poll_t exit_poll;
  int exited, exit_reported, reaped;
  int code, signal;
  stream_t out, err;
  int open_handles;
} child_t;

/*
 * One per JS environment (the main thread, each worker). Children with news are queued, and
 * a check handle, which runs right after the loop's poll phase, tells JS about each of them
 * once: output, ends and exit found in the same turn of the loop reach JS in one call.
 */
struct state {
  napi_env env;
  int env_alive;
  uv_check_t check;
  child_t *live;
  child_t *queue_head, *queue_tail;
  uint32_t next_id;
  int check_closed;
  char scratch[READ_LIMIT];
};

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

/* ---------------------------------------------------------------- watching a child */

static void on_check(uv_check_t *check);

/* After the environment has gone: the state outlives it until its last handle has closed. */
static void maybe_free_state(state_t *state) {
  if (!state->env_alive && state->check_closed && state->live == NULL) free(state);
}

static void queue_child(child_t *child) {
  state_t *state = child->state;
  if (child->queued) return;
  child->queued = 1;
  child->next_queued = NULL;
  if (state->queue_tail != NULL) state->queue_tail->next_queued = child;
  else state->queue_head = child;
  state->queue_tail = child;
  uv_check_start(&state->check, on_check);
}

/* Frees a child once its handles are closed and JS has heard everything (or is gone). */
static void maybe_free(child_t *child) {
  state_t *state = child->state;
  if (child->open_handles > 0 || child->queued) return;
  int told = child->out.reported && child->err.reported && child->exit_reported;
  if (state->env_alive && !told) return;
  if (!child->reaped) waitid(P_PID, (id_t)child->pid, &(siginfo_t){0}, WEXITED | WNOHANG);
  if (child->prev != NULL) child->prev->next = child->next;
  else state->live = child->next;
  if (child->next != NULL) child->next->prev = child->prev;
  if (state->env_alive && child->on_events != NULL) {
    napi_delete_reference(state->env, child->on_events);
    napi_async_destroy(state->env, child->async_context);
  }
  free(child->out.data);
  free(child->err.data);
  free(child);
  maybe_free_state(state);
}

static void on_stream_closed(uv_handle_t *handle) {
  stream_t *stream = (stream_t *)handle;
  close(stream->fd);
  stream->fd = -1;
  stream->child->open_handles--;
  maybe_free(stream->child);
}

static void on_exit_poll_closed(uv_handle_t *handle) {
  child_t *child = (child_t *)((char *)handle - offsetof(child_t, exit_poll));
  close(child->pidfd);
  child->pidfd = -1;
  child->open_handles--;
  maybe_free(child);
}

/* No more reading from this pipe; its writer gets EPIPE from now on. */
static void end_stream(stream_t *stream) {
  if (stream->ended) return;
  stream->ended = 1;
  uv_poll_stop(&stream->poll);
  uv_close((uv_handle_t *)&stream->poll, on_stream_closed);
  queue_child(stream->child);
}

static int append(stream_t *stream, const char *bytes, size_t length) {
  if (stream->length + length > stream->capacity) {
    size_t capacity = stream->capacity == 0 ? length : stream->capacity * 2;
    if (capacity < stream->length + length) capacity = stream->length + length;
    char *data = realloc(stream->data, capacity);
    if (data == NULL) return ENOMEM;
    stream->data = data;
    stream->capacity = capacity;
  }
  memcpy(stream->data + stream->length, bytes, length);
  stream->length += length;
  return 0;
}

static void on_readable(uv_poll_t *poll, int status, int events) {
  (void)events;
  stream_t *stream = (stream_t *)poll;
  char *scratch = stream->child->state->scratch;
  size_t budget = READ_LIMIT;
  int finished = status < 0;
  while (!finished && budget > 0) {
    ssize_t n = read(stream->fd, scratch, budget);
    if (n > 0) {
      if (append(stream, scratch, (size_t)n) != 0) finished = 1;
      budget -= (size_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      break;
    } else {
      finished = 1; /* EOF, or a read error, which ends the stream the same way */
    }
  }
  if (finished) end_stream(stream);
  else if (stream->length > 0) queue_child(stream->child);
}

static void on_exit_readable(uv_poll_t *poll, int status, int events) {
  (void)status;
  (void)events;
  child_t *child = (child_t *)((char *)poll - offsetof(child_t, exit_poll));
  siginfo_t info;
  memset(&info, 0, sizeof info);
  /* WNOWAIT: the child stays a zombie until JS has heard of its exit, so its pid (and process
   * group id) cannot be reused before the group has been signalled one last time. */
  if (waitid(P_PID, (id_t)child->pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) return;
  int exited = info.si_code == CLD_EXITED;
  child->code = exited ? info.si_status : -1;
  child->signal = exited ? 0 : info.si_status;
  child->exited = 1;
  uv_poll_stop(poll);
  uv_close((uv_handle_t *)poll, on_exit_poll_closed);
  queue_child(child);
}

static napi_value take_output(napi_env env, stream_t *stream) {
  napi_value value;
  if (stream->length == 0) {
    napi_get_undefined(env, &value);
    return value;
  }
  napi_create_buffer_copy(env, stream->length, stream->data, NULL, &value);
  stream->length = 0;
  return value;
}

/* onEvents(stdout, stderr, events, code, signal): new output (a Buffer or undefined) and what ended. */
static void tell_js(state_t *state, child_t *child) {
  napi_env env = state->env;
  int news = 0;
  if (child->out.ended && !child->out.reported) news |= STDOUT_END;
  if (child->err.ended && !child->err.reported) news |= STDERR_END;
  if (child->exited && !child->exit_reported) news |= EXITED;
  if (news == 0 && child->out.length == 0 && child->err.length == 0) return;
  child->out.reported |= (news & STDOUT_END) != 0;
  child->err.reported |= (news & STDERR_END) != 0;
  child->exit_reported |= (news & EXITED) != 0;

  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value fn, recv, argv[5];
  napi_get_reference_value(env, child->on_events, &fn);
  napi_get_global(env, &recv);
  argv[0] = take_output(env, &child->out);
  argv[1] = take_output(env, &child->err);
  napi_create_int32(env, news, &argv[2]);
  napi_create_int32(env, child->code, &argv[3]);
  napi_create_int32(env, child->signal, &argv[4]);
  if (napi_make_callback(env, child->async_context, recv, fn, 5, argv, NULL) == napi_pending_exception) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
  napi_close_handle_scope(env, scope);
  if (news & EXITED) {
    siginfo_t info;
    waitid(P_PID, (id_t)child->pid, &info, WEXITED);
    child->reaped = 1;
  }
}

/* After the poll phase: each child with news is told once. JS may queue a child again
 * (stopReading), which this loop then sees too. */
static void on_check(uv_check_t *check) {
  state_t *state = (state_t *)((char *)check - offsetof(state_t, check));
  while (state->queue_head != NULL) {
    child_t *child = state->queue_head;
    state->queue_head = child->next_queued;
    if (state->queue_head == NULL) state->queue_tail = NULL;
    child->queued = 0;
    tell_js(state, child);
    maybe_free(child);
  }
  uv_check_stop(check);
}

/* After the exit watch could not be set up: the child must not outlive us unwatched. */
static void kill_and_reap(pid_t pid) {
  kill(-pid, SIGKILL);
  waitpid(pid, NULL, 0);
}

/*
 * Watches a started child: its exit through the pidfd, its output through the two read ends.
 * Each fd belongs to its poll handle once that is initialised, and is closed with it. On
 * failure the child is killed and reaped, and nothing is left open; returns the libuv error.
 */
static int watch_child(state_t *state, child_t *child, int pidfd, int out_fd, int err_fd) {
  uv_loop_t *loop;
  napi_get_uv_event_loop(state->env, &loop);
  int fds[3] = {pidfd, out_fd, err_fd};
  uv_poll_t *polls[3] = {&child->exit_poll, &child->out.poll, &child->err.poll};
  uv_close_cb closers[3] = {on_exit_poll_closed, on_stream_closed, on_stream_closed};
  child->pidfd = pidfd;
  child->out.child = child->err.child = child;
  child->out.fd = out_fd;
  child->err.fd = err_fd;
  int inited = 0, err = 0;
  for (; inited < 3 && err == 0; inited++) {
    err = uv_poll_init(loop, polls[inited], fds[inited]);
    if (err != 0) break;
    child->open_handles++;
  }
  if (err == 0) err = uv_poll_start(&child->exit_poll, UV_READABLE, on_exit_readable);
  if (err == 0) err = uv_poll_start(&child->out.poll, UV_READABLE, on_readable);
  if (err == 0) err = uv_poll_start(&child->err.poll, UV_READABLE, on_readable);
  if (err == 0) return 0;

  kill_and_reap(child->pid);
  child->reaped = child->exited = child->exit_reported = 1;
  child->out.ended = child->out.reported = child->err.ended = child->err.reported = 1;
  for (int i = 0; i < 3; i++) {
    if (i < inited) {
      uv_poll_stop(polls[i]);
      uv_close((uv_handle_t *)polls[i], closers[i]);
    } else {
      close(fds[i]);
    }
  }
  return err;
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
  napi_ref on_events;
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
  if (req->on_events != NULL) napi_delete_reference(env, req->on_events);
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
  /* Only our read ends: the child's write ends are other open files and stay blocking. */
  fcntl(req->out[0], F_SETFL, O_NONBLOCK);
  fcntl(req->err[0], F_SETFL, O_NONBLOCK);
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
  state_t *state;
  napi_get_instance_data(env, (void **)&state);
  if (status != napi_ok && req->error == 0) {
    /* Cancelled after the child started: it must not run unwatched. */
    if (req->pid > 0) kill_and_reap(req->pid);
    if (req->pidfd >= 0) close(req->pidfd);
    req->error = ECANCELED;
    req->failed = "spawn";
  }
  child_t *child = NULL;
  if (req->error == 0) {
    child = calloc(1, sizeof *child);
    if (child == NULL) {
      kill_and_reap(req->pid);
      close(req->pidfd);
      req->error = ENOMEM;
      req->failed = "spawn";
    }
  }
  if (child != NULL) {
    child->state = state;
    child->id = ++state->next_id;
    child->pid = req->pid;
    child->next = state->live;
    if (state->live != NULL) state->live->prev = child;
    state->live = child;
    int watch_error = watch_child(state, child, req->pidfd, req->out[0], req->err[0]);
    req->out[0] = req->err[0] = -1; /* the watch owns (or has closed) them now */
    if (watch_error != 0) {
      req->error = -watch_error;
      req->failed = "uv_poll";
      maybe_free(child);
    } else {
      child->on_events = req->on_events;
      req->on_events = NULL;
      napi_value name;
      napi_create_string_utf8(env, "PortholeProcess", NAPI_AUTO_LENGTH, &name);
      napi_async_init(env, NULL, name, &child->async_context);
    }
  }
  if (req->error != 0) {
    napi_reject_deferred(env, req->deferred, errno_error(env, req->failed, req->error));
  } else {
    napi_value result, value;
    napi_create_array_with_length(env, 2, &result);
    napi_create_int32(env, child->pid, &value);
    napi_set_element(env, result, 0, value);
    napi_create_uint32(env, child->id, &value);
    napi_set_element(env, result, 1, value);
    napi_resolve_deferred(env, req->deferred, result);
  }
  free_request(env, req);
}

/*
 * spawn(file, args, env, cwd, onEvents) -> Promise<[pid, id]>
 * args includes argv[0]; env is a list of "NAME=value"; cwd may be undefined.
 * The child leads a new session (so its process group id is its pid), reads /dev/null,
 * writes into two pipes, starts with default signal handling and an empty signal mask,
 * and inherits no file descriptor but those three. The promise rejects with an errno-coded
 * Error when the child cannot start.
 *
 * onEvents(stdout, stderr, events, code, signal) is called after a turn of the event loop in
 * which something happened to the child, never before the promise has settled: stdout and
 * stderr are the output read since the last call (a Buffer, or undefined when there is none),
 * `events` has STDOUT_END (1) and STDERR_END (2) once each stream has ended, and EXITED (4)
 * once the child has exited: `code` is then its exit code (-1 when a signal ended it) and
 * `signal` the signal's number (0 when it exited). The child is reaped only when that call
 * returns, so its process group id stays its own until then.
 */
static napi_value spawn_process(napi_env env, napi_callback_info callback_info) {
  size_t argc = 5;
  napi_value args[5];
  napi_get_cb_info(env, callback_info, &argc, args, NULL, NULL);
  if (argc < 5) return throw_type(env, "spawn(file, args, env, cwd, onEvents) takes five arguments");

  napi_valuetype cwd_type, on_events_type;
  napi_typeof(env, args[3], &cwd_type);
  napi_typeof(env, args[4], &on_events_type);
  if (on_events_type != napi_function) return throw_type(env, "onEvents must be a function");

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
  napi_create_reference(env, args[4], 1, &req->on_events);
  napi_create_string_utf8(env, "PortholeSpawn", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, spawn_execute, spawn_complete, req, &req->work);
  if (napi_queue_async_work(env, req->work) != napi_ok) {
    napi_reject_deferred(env, req->deferred, errno_error(env, "spawn", EAGAIN));
    free_request(env, req);
  }
  return promise;
}

/*
 * stopReading(id, streams): stops reading the child's stdout (1), stderr (2) or both (3); its
 * writers then get EPIPE. The end of each stream stopped is reported through onEvents as
 * usual. A child that is gone already is ignored.
 */
static napi_value stop_reading(napi_env env, napi_callback_info callback_info) {
  size_t argc = 2;
  napi_value args[2];
  napi_get_cb_info(env, callback_info, &argc, args, NULL, NULL);
  uint32_t id, streams;
  if (argc < 2 || napi_get_value_uint32(env, args[0], &id) != napi_ok || napi_get_value_uint32(env, args[1], &streams) != napi_ok) {
    return throw_type(env, "stopReading(id, streams) takes two numbers");
  }
  state_t *state;
  napi_get_instance_data(env, (void **)&state);
  for (child_t *child = state->live; child != NULL; child = child->next) {
    if (child->id != id) continue;
    if (streams & STDOUT) end_stream(&child->out);
    if (streams & STDERR) end_stream(&child->err);
    break;
  }
  return NULL;
}

/* Whether this kernel has pidfd_open, checked once at load on our own pid. */
static napi_value supported(napi_env env) {
  int pidfd = pidfd_open(getpid());
  napi_value value;
  napi_get_boolean(env, pidfd >= 0, &value);
  if (pidfd >= 0) close(pidfd);
  return value;
}

static void on_check_closed(uv_handle_t *handle) {
  state_t *state = (state_t *)((char *)handle - offsetof(state_t, check));
  state->check_closed = 1;
  maybe_free_state(state);
}

/*
 * The environment is going away (worker exit, process teardown): stop watching, touch no JS.
 * Children are left running; shutting them down is the server's job, done before this.
 */
static void on_env_cleanup(void *data) {
  state_t *state = data;
  state->env_alive = 0;
  for (child_t *child = state->live, *next; child != NULL; child = next) {
    next = child->next;
    if (!child->exited) {
      child->exited = 1;
      uv_poll_stop(&child->exit_poll);
      uv_close((uv_handle_t *)&child->exit_poll, on_exit_poll_closed);
    }
    end_stream(&child->out);
    end_stream(&child->err);
    child->queued = 0;
  }
  state->queue_head = state->queue_tail = NULL;
  uv_check_stop(&state->check);
  uv_close((uv_handle_t *)&state->check, on_check_closed);
}

NAPI_MODULE_INIT() {
  state_t *state = calloc(1, sizeof *state);
  if (state == NULL) return throw_errno(env, "load", ENOMEM);
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  state->env = env;
  state->env_alive = 1;
  uv_check_init(loop, &state->check);
  /* Only children keep the loop alive (their poll handles), never this. */
  uv_unref((uv_handle_t *)&state->check);
  napi_set_instance_data(env, state, NULL, NULL);
  napi_add_env_cleanup_hook(env, on_env_cleanup, state);

  napi_value fn;
  napi_create_function(env, "spawn", NAPI_AUTO_LENGTH, spawn_process, NULL, &fn);
  napi_set_named_property(env, exports, "spawn", fn);
  napi_create_function(env, "stopReading", NAPI_AUTO_LENGTH, stop_reading, NULL, &fn);
  napi_set_named_property(env, exports, "stopReading", fn);
  napi_set_named_property(env, exports, "supported", supported(env));
  return exports;
}
