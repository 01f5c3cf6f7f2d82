/** Whether something exists at `path` (a file, folder or link; links are not followed). */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}
