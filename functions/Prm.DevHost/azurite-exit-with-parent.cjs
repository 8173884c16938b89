// Preloaded into the test processes' in-memory Azurite (node --require; Azurite.StartAsync(exitWithParent: true)): it exits when the
// process that started it is gone. A test process ended before its exit handlers ran otherwise leaves it behind. The local host's
// emulator does not use it: it outlives a killed host on purpose (the next host reuses or adopts it).
//
// Two signals, checked each second: this process was re-parented (its parent exited: the kernel hands orphans to init or a subreaper,
// so process.ppid changes at once, zombie parent or not), or the PID it was given no longer exists. The PID alone is not enough: this
// machine's pid_max can be 32768, and on a busy one a dead parent's PID is soon another process's, which kept an emulator alive.
const parent = Number(process.env.PRM_AZURITE_PARENT_PID);
if (parent > 0) {
  const startedBy = process.ppid;
  setInterval(() => {
    if (process.ppid !== startedBy) process.exit(0);
    try {
      process.kill(parent, 0);
    } catch (error) {
      if (error.code === 'ESRCH') process.exit(0);
    }
  }, 1000).unref();
}
