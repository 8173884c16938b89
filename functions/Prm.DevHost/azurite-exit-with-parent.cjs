// Preloaded into the test processes' in-memory Azurite (node --require; Azurite.StartAsync(exitWithParent: true)): it exits when the
// process that started it is gone. A test process ended before its exit handlers ran otherwise leaves it behind. The local host's
// emulator does not use it: it outlives a killed host on purpose (the next host reuses or adopts it).
const parent = Number(process.env.PRM_AZURITE_PARENT_PID);
if (parent > 0) {
  setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch (error) {
      if (error.code === 'ESRCH') process.exit(0);
    }
  }, 1000).unref();
}
