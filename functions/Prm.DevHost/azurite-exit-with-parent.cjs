// Preloaded into an in-memory Azurite (node --require): it exits when the process that started it is gone. Its data dies with it
// anyway, and a test process killed before its exit handlers ran (the test platform ends test hosts that way) otherwise leaves it behind.
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
