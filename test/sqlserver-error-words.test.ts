/**
 * How SQL Server's answers (error numbers and texts, as tedious delivers them: the last error with the ones before
 * it in precedingErrors) become operator errors, as a table. No server: mapSqlError is pure.
 */
import { describe, expect, it } from 'vitest';
import { RefusedError, RespaldoError } from '../src/core/errors.js';
import { resolveSettings } from '../src/drivers/sqlserver/config.js';
import { mapSqlError } from '../src/drivers/sqlserver/errors.js';
import { fakeMssqlConfig, sqlError } from './helpers/sqlserver-fake.js';

const s = resolveSettings(fakeMssqlConfig('/tmp/shared'));

/** A BACKUP or RESTORE failure: the cause, then 3013 (`… is terminating abnormally`) last, as SQL Server sends them. */
function failed(verb: string, number: number, text: string): Error {
  const last = sqlError(3013, `${verb} is terminating abnormally.`);
  return Object.assign(last, { precedingErrors: [sqlError(number, text)] });
}

describe('mapSqlError: what an operator is told of a BACKUP or RESTORE error', () => {
  const cases: { name: string; err: Error; message: RegExp; not?: RegExp }[] = [
    {
      name: '3202 a full disk under the backup folder (Windows, OS error 112) is said as that folder full, not damage',
      err: failed(
        'BACKUP DATABASE',
        3202,
        'Write on "/var/opt/mssql/backup/respaldo-users-1.bak" failed: 112(There is not enough space on the disk.)',
      ),
      message: /^SQL Server could not back up: the disk of the backup folder \/var\/opt\/mssql\/backup .* is full/,
      not: /damaged/,
    },
    {
      name: '3202 a full disk (Linux, OS error 28) elsewhere is said as the database files volume',
      err: failed(
        'RESTORE DATABASE',
        3202,
        'Write on "/var/opt/mssql/data/u.mdf" failed: 28(No space left on device).',
      ),
      message: /^SQL Server could not back up: the disk it writes the database files on is full/,
      not: /damaged/,
    },
    {
      name: '3189 damage is damage',
      err: failed('RESTORE DATABASE', 3189, 'Damage to the backup set was detected.'),
      message: /found the backup damaged/,
    },
    {
      name: '3183 a page checksum is damage',
      err: failed('RESTORE DATABASE', 3183, 'RESTORE detected an error on page (1:153) … checksum failure'),
      message: /found the backup damaged/,
    },
    {
      name: '3241 incorrectly formed is said as damage, its hint naming the version',
      err: failed(
        'RESTORE FILELISTONLY',
        3241,
        "The media family on device 'x.bak' is incorrectly formed. SQL Server cannot process this media family.",
      ),
      message: /found the backup damaged/,
    },
    {
      name: '4214 BACKUP LOG "cannot be performed" is not damage',
      err: failed('BACKUP LOG', 4214, 'BACKUP LOG cannot be performed because there is no current database backup.'),
      message: /^SQL Server could not back up: BACKUP LOG cannot be performed/,
      not: /damaged/,
    },
    {
      name: '1468 an operation that "cannot be performed" on a mirrored database is not damage',
      err: failed(
        'RESTORE DATABASE',
        1468,
        "The operation cannot be performed on database 'x' because it is involved in a database mirroring session or an availability group.",
      ),
      message: /^SQL Server could not back up: The operation cannot be performed/,
      not: /damaged/,
    },
    {
      name: '3201 a folder name the server refuses (OS error 123, "syntax is incorrect") is not damage',
      err: failed(
        'BACKUP DATABASE',
        3201,
        "Cannot open backup device 'D:Backups\\x.bak'. Operating system error 123(The filename, directory name, or volume label syntax is incorrect.).",
      ),
      message: /^SQL Server could not back up: Cannot open backup device/,
      not: /damaged/,
    },
    {
      name: '3203 a read that failed its CRC is damage',
      err: failed('RESTORE DATABASE', 3203, "Read on 'x.bak' failed: 23(Data error (cyclic redundancy check).)"),
      message: /found the backup damaged/,
    },
    {
      name: '3257 no room on the volume of the data folder is said as free space',
      err: Object.assign(sqlError(3013, 'RESTORE DATABASE is terminating abnormally.'), {
        precedingErrors: [
          sqlError(
            3257,
            "There is insufficient free space on disk volume '/var/opt/mssql/data/' to create the database. The database requires 21474836480 additional free bytes, while only 1073741824 bytes are available.",
          ),
          sqlError(
            3119,
            'Problems were identified while planning for the RESTORE statement. Previous messages provide details.',
          ),
        ],
      }),
      message: /^SQL Server lacks free space for the database files .*insufficient free space on disk volume/,
    },
  ];
  it.each(cases)('$name', ({ err, message, not }) => {
    const mapped = mapSqlError(err, 'back up', s) as RespaldoError;
    expect(mapped).toBeInstanceOf(RespaldoError);
    expect(mapped.message).toMatch(message);
    if (not) expect(`${mapped.message} ${mapped.hint}`).not.toMatch(not);
  });

  it('3241 mentions that a later version is refused the same way', () => {
    const err = failed('RESTORE FILELISTONLY', 3241, 'The media family on device is incorrectly formed.');
    expect((mapSqlError(err, 'list the files', s) as RespaldoError).hint).toMatch(/later SQL Server version/);
  });

  it.each([
    [
      '4305 a log backup too recent (a log backup made elsewhere is missing)',
      failed(
        'RESTORE LOG',
        4305,
        'The log in this backup set begins at LSN 18000000015300001, which is too recent to apply to the database. An earlier log backup that includes LSN 18000000014000001 can be restored.',
      ),
      /do not apply on each other/,
      /verify --chain/,
    ],
    [
      '4326 a log backup too early',
      failed(
        'RESTORE LOG',
        4326,
        'The log in this backup set terminates at LSN 9386000024284900001, which is too early to apply to the database.',
      ),
      /do not apply on each other/,
      /earlier set/,
    ],
    [
      '3136 a differential on another full',
      failed(
        'RESTORE DATABASE',
        3136,
        'This differential backup cannot be restored because the database has not been restored to the correct earlier state.',
      ),
      /do not apply on each other/,
      /full set/,
    ],
    [
      '4338 STOPAT before what the backup reaches',
      failed(
        'RESTORE LOG',
        4338,
        'The STOPAT clause specifies a point too early to allow this backup set to be restored. Choose a different stop point or use RESTORE DATABASE WITH RECOVERY to recover at the current point.',
      ),
      /cannot stop at that time in this backup/,
      /another --at time/,
    ],
    [
      '4214 BACKUP LOG without a log chain',
      failed('BACKUP LOG', 4214, 'BACKUP LOG cannot be performed because there is no current database backup.'),
      /no backup chain to continue/,
      /--type full/,
    ],
    [
      '3035 a differential without a full',
      failed(
        'BACKUP DATABASE',
        3035,
        'Cannot perform a differential backup for database "x", because a current database backup does not exist.',
      ),
      /no backup chain to continue/,
      /--type full/,
    ],
  ])('chain errors get a hint: %s', (_name, err, message, hint) => {
    const mapped = mapSqlError(err, 'apply the backup', s) as RespaldoError;
    expect(mapped.message).toMatch(/^SQL Server could not apply the backup: /);
    expect(mapped.hint).toMatch(message);
    expect(mapped.hint).toMatch(hint);
    expect(mapped.hint).not.toMatch(/See the SQL Server error above/);
  });

  it('3169 is said the way it applies: a backup of a later version, or one too old for this server', () => {
    const said = (made: string, here: string): RespaldoError =>
      mapSqlError(
        failed(
          'RESTORE DATABASE',
          3169,
          `The database was backed up on a server running version ${made}. That version is incompatible with this server, which is running version ${here}. Either restore the database on a server that supports the backup, or use a backup that is compatible with this server.`,
        ),
        'restore',
        s,
      ) as RespaldoError;
    const old = said('9.00.5000', '15.00.2000');
    expect(old.message).toMatch(/too old for this server/);
    expect(`${old.message} ${old.hint}`).not.toMatch(/later SQL Server version|upgrade this one/);
    expect(old.hint).toMatch(/SQL Server 2019 \(15\.0\), no longer restores backups of SQL Server 2005 \(9\.0\)/);
    const newer = said('16.00.1000', '15.00.2000');
    expect(newer.message).toMatch(/made by a later SQL Server version/);
  });

  it('in-use errors are refusals', () => {
    const err = sqlError(5070, "Database state cannot be changed while other users are using the database 'x'");
    expect(mapSqlError(err, 'take x', s)).toBeInstanceOf(RefusedError);
  });
});
