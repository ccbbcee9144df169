import { readdir, readFile } from 'node:fs/promises';

/**
 * CPU seconds of this process's children whose command line contains `marker` (Azurite), read from
 * /proc: what says whether Azurite was the bottleneck of a scenario. Undefined where /proc is not.
 */
export async function childCpuSeconds(marker: string): Promise<number | undefined> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return undefined;
  }
  const ticksPerSecond = 100; // USER_HZ, 100 on Linux everywhere Node runs
  let total = 0;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces, inside parentheses).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== process.pid) continue;
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmdline.includes(marker)) continue;
      // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
      total += (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
    } catch {
      // The process ended while we looked.
    }
  }
  return total;
}
