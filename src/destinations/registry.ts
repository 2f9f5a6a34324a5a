import { ConfigError, NotFoundError } from '../core/errors.js';
import type { LoadedConfig } from '../core/types.js';
import type {
  Destination,
  DestinationConfig,
  DestinationFactory,
  DestinationRules,
  DestinationType,
} from './destination.js';
import { folderRules, rcloneRules, s3Rules, sftpRules } from './rules.js';

/**
 * Every destination type, by the `type` of its config entry: its config rules, and its implementation
 * loaded only when a destination of that type is opened (a copy to a folder does not load the S3 or SFTP
 * code: every command checks the config's destinations).
 */
export const DESTINATIONS: Partial<
  Record<DestinationType, DestinationRules & { load(): Promise<DestinationFactory> }>
> = {
  folder: { ...folderRules, load: async () => (await import('./folder.js')).folderFactory },
  s3: { ...s3Rules, load: async () => (await import('./s3.js')).s3Factory },
  sftp: { ...sftpRules, load: async () => (await import('./sftp.js')).sftpFactory },
  rclone: { ...rcloneRules, load: async () => (await import('./rclone.js')).rcloneFactory },
};

/**
 * The config entry named `name`, to be used: a NotFoundError (exit 8, as an unknown `--db`) listing the names when
 * there is none, and the ConfigError of a `${VAR}` of it that is not set (which stops only the commands that use
 * this destination).
 */
export function destinationConfig(
  cfg: Pick<LoadedConfig, 'destinations' | 'file' | 'unsetDestinations'>,
  name: string,
): DestinationConfig {
  const found = declaredDestination(cfg, name);
  const unset = cfg.unsetDestinations?.[name];
  if (unset) throw new ConfigError(cfg.file, unset.path, `\${${unset.variable}} is not set`, unset.hint);
  return found;
}

/**
 * The config entry named `name` as written, its `${VAR}` set or not (what a copy records its outcome under; the
 * copy itself opens it with destinationConfig); a NotFoundError (exit 8) naming it and listing the names when there
 * is none: the command line is well formed, the name is not in the config (as an unknown `--db`).
 */
export function declaredDestination(cfg: Pick<LoadedConfig, 'destinations' | 'file'>, name: string): DestinationConfig {
  const all = cfg.destinations ?? [];
  const found = all.find((d) => d.name === name);
  if (!found) {
    throw new NotFoundError(
      `No destination named "${name}" in ${cfg.file}.`,
      all.length
        ? `Destinations: ${all.map((d) => d.name).join(', ')}.`
        : 'Add one under "destinations" (see README: Off-site copies).',
    );
  }
  return found;
}

/** Opens the destination named `name`. Close it when done. */
export async function openDestination(
  cfg: Pick<LoadedConfig, 'destinations' | 'file' | 'unsetDestinations'>,
  name: string,
): Promise<Destination> {
  const dc = destinationConfig(cfg, name);
  const factory = await DESTINATIONS[dc.type]!.load();
  return factory.open(dc);
}
