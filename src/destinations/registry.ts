import { UsageError } from '../core/errors.js';
import type { LoadedConfig } from '../core/types.js';
import type { Destination, DestinationConfig, DestinationFactory, DestinationType } from './destination.js';
import { folderFactory } from './folder.js';
import { rcloneFactory } from './rclone.js';
import { s3Factory } from './s3.js';
import { sftpFactory } from './sftp.js';

/** Every destination type, by the `type` of its config entry. */
export const DESTINATIONS: Partial<Record<DestinationType, DestinationFactory>> = {
  folder: folderFactory,
  s3: s3Factory,
  sftp: sftpFactory,
  rclone: rcloneFactory,
};

export function destinationFactory(type: DestinationType): DestinationFactory | undefined {
  return DESTINATIONS[type];
}

/** The config entry named `name`; a UsageError listing the names when there is none. */
export function destinationConfig(cfg: Pick<LoadedConfig, 'destinations' | 'file'>, name: string): DestinationConfig {
  const all = cfg.destinations ?? [];
  const found = all.find((d) => d.name === name);
  if (!found) {
    throw new UsageError(
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
  cfg: Pick<LoadedConfig, 'destinations' | 'file'>,
  name: string,
): Promise<Destination> {
  const dc = destinationConfig(cfg, name);
  return DESTINATIONS[dc.type]!.open(dc);
}
