import {
  inParens,
  listParam,
  retentionProblems,
  rowDiffs,
  schemaHints,
  schemaItems,
  type KeepFailure,
  type Phrase,
  type PhraseId,
  type PhraseParams,
  type RowDiff,
} from '../../core/phrases.js';
import { systemDetail, withoutPath } from './system-errors.js';

/**
 * The restore plan's sentences and the common errors in Spanish, by the ids of src/core/phrases.ts (every id must be
 * here: the `satisfies` below fails the build otherwise). SQL, commands and options stay as they are. One file of
 * about 1600 lines, as src/core/phrases.ts says why.
 */
/** The parameters a phrase passed on for the phrase inside it (`in.` prefixed), unprefixed; `in.of` is its id. */
function inner(p: PhraseParams): PhraseParams {
  const out: PhraseParams = {};
  for (const [k, v] of Object.entries(p)) if (k.startsWith('in.') && k !== 'in.of') out[k.slice(3)] = v;
  return out;
}

/** What a path is when it is no regular file (src/core/regular-file.ts), in Spanish. */
const kindEs = (kind: string | undefined): string =>
  ({
    'a folder': 'una carpeta',
    'a FIFO': 'una FIFO (tubería con nombre)',
    'a socket': 'un socket',
    'a device': 'un dispositivo',
  })[kind ?? ''] ??
  kind ??
  '';

/** Lo que encontró un problema del esquema (ver foundEn en src/core/phrases.ts). */
const foundEs = (p: PhraseParams) =>
  p['foundKind'] === 'object' ? 'un objeto { … }' : p['foundKind'] === 'array' ? 'una lista [ … ]' : (p['found'] ?? '');

const TYPE_ES: PhraseParams = {
  integer: 'un número entero',
  number: 'un número',
  string: 'un texto entre comillas',
  boolean: 'true o false',
  object: 'un objeto { … }',
  array: 'una lista [ … ]',
  null: 'null',
};
const jsonTypeEs = (t: string | undefined) =>
  (t ?? '')
    .split(',')
    .map((x) => TYPE_ES[x] ?? x)
    .join(' o ');

/** `dbs`, `failed` y `files` de una copia (ver holdsEn en src/core/phrases.ts). */
function holdsEs(p: PhraseParams): string {
  const failed = p['failed'] ? ` (fallaron en ella: ${p['failed']})` : '';
  const files = p['files'] !== '0' ? `${p['files']} archivo(s)` : 'ningún archivo';
  return `${p['dbs'] || 'ninguna base'}${failed}; ${files}`;
}

/** `problem` said by its nested phrase (nestedPhrase in src/core/phrases.ts), or as it is without one. */
function nestedEs(p: PhraseParams): string {
  const id = p['pid'] as PhraseId | undefined;
  if (!id) return p['problem'] ?? '';
  const inner = Object.entries(p).filter(([k]) => k.startsWith('p.'));
  return PHRASES_ES[id](Object.fromEntries(inner.map(([k, v]) => [k.slice(2), v])));
}

/** `differential` o `incremental` en español, en plural (las copias …). */
const typeEs = (type: string | undefined): string =>
  type === 'differential' ? 'diferenciales' : type === 'incremental' ? 'incrementales' : (type ?? '');

/** De qué se hace la estimación del espacio de una copia (ver estimateOf en src/core/phrases.ts). */
const estimateEs = (p: PhraseParams): string => {
  const type = { full: 'completa', differential: 'diferencial', incremental: 'incremental' }[p['type'] ?? ''];
  return (
    `lo que guardó la última copia ${type ?? p['type']}, ${p['set']}${p['stored'] ? ` (${p['stored']})` : ''}, ` +
    'más las instantáneas de las bases de datos y los archivos de volcado escritos a su lado, y una quinta parte de ' +
    'margen'
  );
};

/** Lo que una descarga que encontró daños dejó sin hacer (ver nothingDoneEn). */
const nothingDoneEs = (p: PhraseParams): string =>
  p['done'] === 'drill'
    ? 'No se hizo ni registró ningún simulacro; no se guardó nada de lo traído. '
    : p['done'] === 'restore'
      ? 'No se restauró nada. '
      : '';

/** Cómo se repara la copia dañada en el destino (ver repairThereEn). */
const repairThereEs = (p: PhraseParams): string =>
  p['held']
    ? `Este servidor aún tiene la copia ${p['set']}: \`respaldo copy ${p['set']} --to ${p['dest']} --verify\` la repara allí (vuelve a enviar cada archivo que difiere). O restaure otra copia (\`respaldo list --from ${p['dest']}\`).`
    : `Restaure otra copia (\`respaldo list --from ${p['dest']}\`); la copia solo puede repararse allí desde un servidor que aún la tenga.`;

/** ` (la necesita X)` cuando un problema de cadena tiene `by` (ver neededEn). */
/** El destino de una restauración en palabras de status: la base en uso, o la ruta de `--to`. */
const targetEs = (p: PhraseParams): string => (p['to'] ? `el destino ${p['to']}` : 'la base en uso');
/** ` (cuelgue: se cerró el terminal)` y similares, cuando la paró una señal. */
const signalEs = (p: PhraseParams): string =>
  p['signal'] === 'SIGHUP'
    ? ' (cuelgue: se cerró el terminal)'
    : p['signal'] === 'SIGINT'
      ? ' (Ctrl-C)'
      : p['signal']
        ? ` (${p['signal']})`
        : '';
const neededEs = (p: PhraseParams) => (p['by'] ? ` (la necesita ${p['by']})` : '');

/** ` y N copia(s) anterior(es) de su cadena` (ver chainEn). */
const chainEs = (p: PhraseParams) => (p['chain'] !== '0' ? ` y ${p['chain']} copia(s) anterior(es) de su cadena` : '');
/** `N archivo(s), B bytes` (ver filesEn). */
const filesEs = (p: PhraseParams) => `${p['count']} archivo(s)${p['bytes'] !== '0' ? `, ${p['bytes']} bytes` : ''}`;

/**
 * What was being done when a server failed (the `doing` of the PostgreSQL and destination errors), in Spanish:
 * the engine's fixed words, then the destinations' "reading KEY" ones by their verb; anything else as it is.
 */
export const DOING_ES: Record<string, string> = {
  connecting: 'al conectar',
  'connecting for the backup': 'al conectar para la copia',
  'reading the server version': 'al leer la versión del servidor',
  'starting the dump': 'al empezar el volcado',
  'listing the tables': 'al listar las tablas',
  'counting rows': 'al contar las filas',
  'inspecting the restore target': 'al examinar el destino de la restauración',
  'preparing the restore': 'al preparar la restauración',
  'cleaning up after the failed restore': 'al limpiar tras la restauración fallida',
  restoring: 'al restaurar',
  'rolling back a restore': 'al deshacer una restauración',
  'dropping a safety copy': 'al borrar una copia de seguridad previa',
  "dropping a drill's scratch database": 'al borrar la base temporal de un simulacro',
  'recovering an interrupted restore': 'al terminar una restauración interrumpida',
  'dropping what an interrupted run left': 'al borrar lo que dejó una ejecución interrumpida',
  'looking for interrupted restores': 'al buscar restauraciones interrumpidas',
  'looking for an interrupted restore': 'al buscar una restauración interrumpida',
  'looking for what interrupted restores left': 'al buscar lo que dejaron restauraciones interrumpidas',
  'looking on the drill server for what killed drills left':
    'al buscar en el servidor de simulacros lo que dejaron simulacros interrumpidos',
  'checking the restored database': 'al comprobar la base restaurada',
  'preparing pg_amcheck': 'al preparar pg_amcheck',
  'checking the server after pg_amcheck': 'al comprobar el servidor después de pg_amcheck',
};
/** Qué archivo secreto nombra `what` (ver secretWhatEn en src/core/phrases.ts). */
const secretWhatEs = (p: PhraseParams): string =>
  p['what'] === 'identity'
    ? 'el archivo de identidad'
    : p['what'] === 'env'
      ? `el archivo de la frase de paso que indica ${p['env']}`
      : 'el archivo de la frase de paso (encryption.passphraseFile)';

/** `nas (su error), usb (…)` (ver keepFailedEn): cada error con su frase en español cuando la tiene. */
const keepFailedEs = (p: PhraseParams): string =>
  listParam<KeepFailure>(
    p['failed'],
    (f) => `${f.destination} (${inParens(f.phrase ? PHRASES_ES[f.phrase.id](f.phrase.params) : f.error)})`,
  );

/** `a como "a__pre_restore_X", …` (ver keptEn). */
const keptEs = (p: PhraseParams): string => listParam<[string, string]>(p['kept'], ([n, r]) => `${n} como "${r}"`);

/** Qué hacer cuando el servidor terminó una sesión (el `why` de `pgend.hint`; ver PGEND_EN). */
const PGEND_ES: PhraseParams = {
  admin:
    'El servidor terminó la sesión a propósito: un administrador o una herramienta ejecutó pg_terminate_backend() ' +
    'sobre ella, o el servidor se está deteniendo (pg_ctl stop, systemctl stop). El servidor sigue en marcha salvo ' +
    'que se haya detenido; su registro dice cuál de las dos.',
  idle:
    'El idle_in_transaction_session_timeout (o idle_session_timeout) del servidor terminó la sesión. Desactívelo ' +
    'para el usuario de las copias (ALTER ROLE … SET idle_in_transaction_session_timeout = 0).',
  recovery:
    'Este servidor es una réplica (standby) y la replicación canceló la sesión. Haga la copia desde el primario, o ' +
    'suba max_standby_streaming_delay / active hot_standby_feedback en la réplica.',
  crash: 'Otro proceso del servidor falló y PostgreSQL se reinició; revise el registro del servidor.',
  serverDisk:
    'El servidor de la base se quedó sin espacio en disco (su carpeta de datos o de archivos temporales), no la ' +
    'carpeta de copias. Libere espacio en el servidor.',
  statementTimeout:
    'El statement_timeout del servidor canceló el volcado; desactívelo para el usuario de las copias ' +
    '(ALTER ROLE … SET statement_timeout = 0).',
};

/** What a verification says of a stored file (`problem` in src/engine/verify.ts), in Spanish; anything else as is. */
export function verifyProblemEs(problem: string): string {
  const size = /^size (\d+) bytes, manifest says (\d+) \(truncated or changed\)$/.exec(problem);
  const undecodable = /^does not decompress \((.*)\): the data it holds is damaged$/.exec(problem);
  if (undecodable) return PHRASES_ES['verify.notDecompressing']({ error: undecodable[1]! });
  if (size) return `mide ${size[1]} bytes y el manifiesto dice ${size[2]} (truncado o cambiado)`;
  return VERIFY_PROBLEM_ES[problem] ?? problem;
}
const VERIFY_PROBLEM_ES: Record<string, string> = {
  missing: 'falta',
  'md5 mismatch (content changed)': 'el md5 no coincide (contenido cambiado)',
  'sha256 mismatch (content changed)': 'el sha256 no coincide (contenido cambiado)',
  'decrypted content does not match the manifest': 'el contenido descifrado no coincide con el manifiesto',
  'failed authentication while decrypting (changed or damaged)':
    'falló la autenticación al descifrarlo (cambiado o dañado)',
};
/**
 * A decompressor's error (zstd-frames.ts's own, zlib's) in Spanish; anything else as is. The zstd reader says what it
 * found and where: `The zstd data is damaged: no zstd frame starts at byte 0 of the file.`
 */
export function decoderErrorEs(error: string | undefined): string {
  const zstd = /^The zstd data is damaged: (.+) at byte (\d+) of the file\.$/.exec(error ?? '');
  if (zstd) {
    const block = /^a zstd block (\d+) bytes into a frame has the reserved type$/.exec(zstd[1]!);
    const what = block
      ? `un bloque zstd a ${block[1]} bytes del comienzo de una trama tiene el tipo reservado`
      : (ZSTD_DAMAGE_ES[zstd[1]!] ?? zstd[1]);
    return `los datos zstd están dañados: ${what} en el byte ${zstd[2]} del archivo.`;
  }
  return ZLIB_ERRORS_ES[error ?? ''] ?? error ?? '';
}
const ZSTD_DAMAGE_ES: Record<string, string> = {
  'no zstd frame starts': 'no empieza ninguna trama zstd',
  'a zstd frame header has its reserved bit set': 'la cabecera de una trama zstd tiene su bit reservado puesto',
};
const ZLIB_ERRORS_ES: Record<string, string> = {
  'incorrect header check': 'cabecera incorrecta',
  'unexpected end of file': 'final de archivo inesperado',
  'invalid block type': 'tipo de bloque no válido',
  'invalid stored block lengths': 'longitudes de bloque almacenado no válidas',
  'invalid distance too far back': 'distancia no válida, demasiado atrás',
  'incorrect data check': 'comprobación de datos incorrecta',
  'incorrect length check': 'comprobación de longitud incorrecta',
};
/** `FILE of set ID` (a stored file's label, crypt.ts) in Spanish. */
const labelEs = (label: string | undefined): string => (label ?? '').replace(/ of set (\S+)$/, ' de la copia $1');

/** `path: problem; …` (a verification's bad files), each problem said in Spanish. */
const verifyProblemsEs = (list: string | undefined): string =>
  (list ?? '')
    .split('; ')
    .map((item) => {
      // Its decompressor's error may hold ': ' and '; ' of its own: the problem starts at its known words
      const undecodable = item.indexOf(': does not decompress (');
      if (undecodable >= 0) return item.slice(0, undecodable + 2) + verifyProblemEs(item.slice(undecodable + 2));
      const at = item.lastIndexOf(': ');
      return at < 0 ? item : item.slice(0, at + 2) + verifyProblemEs(item.slice(at + 2));
    })
    .join('; ');
const DOING_VERB_ES: Record<string, string> = {
  reading: 'al leer',
  writing: 'al escribir',
  uploading: 'al subir',
  removing: 'al borrar',
  listing: 'al listar',
};

export function doingEs(doing: string | undefined): string {
  if (!doing) return '';
  const exact = DOING_ES[doing];
  if (exact) return exact;
  // "reading srv1/20261201_020000/manifest.json", "listing srv1/": a verb, then a key or a path (never other words)
  const space = doing.indexOf(' ');
  const verb = space > 0 ? DOING_VERB_ES[doing.slice(0, space)] : undefined;
  return verb && /^ \S*[/.]\S*$/.test(doing.slice(space)) ? `${verb}${doing.slice(space)}` : doing;
}

/** What `at.none*` add: the sets passed over (`passedSaid`: their reasons as phrases) and when the first set ends. */
function atDetails(p: PhraseParams): string {
  const said = JSON.parse(p['passedSaid'] || '[]') as { id: string; reason: string; phrase?: Phrase }[];
  const reasons = said.length
    ? said.map((s) => `${s.id}: ${s.phrase ? PHRASES_ES[s.phrase.id](s.phrase.params) : s.reason}`).join('; ')
    : p['passed'];
  const passed = reasons ? ` con una cadena utilizable (descartadas: ${reasons})` : '';
  return passed + (p['first'] ? ` (la primera, ${p['first']}, termina a las ${p['ends']})` : '');
}

const rowDiffEs = (d: RowDiff): string =>
  d.actual === null
    ? `${d.table}: falta (se esperaban ${d.expected} filas)`
    : `${d.table}: ${d.actual} filas, se esperaban ${d.expected}`;

/** What a lock holder is doing (lock.ts's purpose: a command, with the set it works on), said in Spanish. */
export function purposeEs(purpose: string): string {
  const [verb = '', ...rest] = purpose.split(' ');
  const onSet = rest.join(' ');
  const words: Record<string, string> = {
    create: 'copia de seguridad',
    prune: 'limpieza de copias antiguas',
    scheduler: 'programador de copias',
    restore: 'restauración',
    drill: 'simulacro',
    delete: 'borrado',
  };
  const word = words[verb];
  if (!word) return purpose;
  return onSet ? `${word} de ${onSet}` : word;
}

/** The part of a SQLite chain found damaged (`sqlite.pagesDamaged`'s `what`), as the sentence starts. */
const PAGE_PART_ES: Record<string, string> = {
  delta: 'Un delta de páginas SQLite guardado está dañado',
  map: 'Un mapa de páginas SQLite guardado está dañado',
  image: 'Una imagen de páginas SQLite guardada está dañada',
  snapshot: 'Una instantánea de páginas SQLite guardada está dañada',
};

export const PHRASES_ES = {
  'sqlite.verify': (p: PhraseParams) => `verificar ${p['file']} contra el manifiesto (md5, sha256)`,
  'restore.streamCheck': (p: PhraseParams) =>
    `comprobar ${p['file']} mientras llega del destino "${p['from']}" (tamaño, sha256)`,
  'restore.localCheck': (p: PhraseParams) =>
    `comprobar ${p['file']} con el manifiesto a medida que se lee (primero su tamaño, luego sha256); si no coincide, la restauración se detiene antes del cambio`,
  'restore.fetchCheck': (p: PhraseParams) =>
    `comprobar ${p['file']} al descargarlo del destino "${p['from']}" (tamaño, sha256), antes de restaurar nada`,
  'restore.fetchedCheck': (p: PhraseParams) =>
    `${p['file']} se comprobó al descargarlo del destino "${p['from']}" (tamaño, sha256)`,
  'sqlite.write': (p: PhraseParams) => `escribir la base restaurada en ${p['staging']}`,
  'sqlite.applySchema': () => 'aplicarle el SQL del esquema',
  'sqlite.check': () => 'ejecutar PRAGMA integrity_check y comparar las filas con el manifiesto',
  'sqlite.swapInPlace': (p: PhraseParams) =>
    `renombrarla sobre ${p['target']} y quitar los ${p['base']}-wal/-shm viejos`,
  'sqlite.renameSide': (p: PhraseParams) => `renombrarla a ${p['target']} (la base en uso no se toca)`,
  'sqlite.renameNew': (p: PhraseParams) =>
    `renombrarla a ${p['target']} (ahora no hay ninguna base allí; toma el propietario de su carpeta)`,
  'sqlite.rollbackInPlace': (p: PhraseParams) => `respaldo restore <id de la copia pre_restore> --db ${p['db']} --yes`,
  'sqlite.rollbackSide': (p: PhraseParams) => `borrar ${p['target']}`,
  'sqlite.rollbackRaw': (p: PhraseParams) =>
    `su copia de seguridad serán sus bytes tal como están (un -journal que dejó un proceso detenido a medias: no ` +
    `se puede leer como base coherente), que ninguna restauración devuelve; respaldo restore <id de la copia ` +
    `pre_restore> --db ${p['db']} --dry-run muestra cómo devolverlos a mano`,
  'sqlite.orphanSides': (p: PhraseParams) =>
    `${p['file']} no está, pero ${p['sides']} a su lado guarda las últimas transacciones (o una a medias) de una base que se movió o se borró: una restauración allí lo quitaría, o SQLite lo aplicaría al archivo restaurado.`,
  'sqlite.orphanSidesHint': (p: PhraseParams) =>
    `Muévalo de ${p['dir']} a donde esté ahora la base a la que pertenece (o bórrelo si esa base ya no existe), y restaure de nuevo; no se ha cambiado nada.`,
  'sqlite.restoresDamaged': (p: PhraseParams) =>
    `${p['db']}: la copia ${p['set']} guardó esta base tal como estaba cuando una restauración la sustituyó, que ya ` +
    `no pasaba integrity_check (${p['problems']}); restaurarla vuelve a poner esa base dañada`,
  'sqlite.countsDiffer': (p: PhraseParams) =>
    `La copia restaurada de ${p['db']} no coincide con la copia de seguridad (${rowDiffs(p['diffs'], rowDiffEs)}).`,
  'sqlite.countsDifferHint': () =>
    'No se ha tocado el destino. Pruebe con otra copia. El archivo guardado coincidía con sus hashes, así que las filas por tabla que registra su manifest.json no son las guardadas (¿editado a mano?); respaldo verify comprueba los archivos, no esas cifras.',

  'pg.countsDiffer': (p: PhraseParams) =>
    `Base ${p['db']}: la copia restaurada no coincide con la copia de seguridad (${rowDiffs(p['diffs'], rowDiffEs)}).`,
  'pg.countsDifferHint': () =>
    'No se ha sustituido nada. Verifique la copia (respaldo verify): si sus archivos pasan, las filas por tabla que registra su manifest.json se cambiaron después de la copia, o el volcado no las tenía; pruebe con una copia anterior.',
  'pg.createRoles': () =>
    'crear los roles guardados en la copia que faltan en este servidor (los roles existentes no se cambian; se borran de nuevo si la restauración falla)',
  'pg.createDb': (p: PhraseParams) =>
    `crear la base vacía "${p['staging']}" (codificación y configuración regional del original)`,
  'pg.restoreTables': (p: PhraseParams) =>
    `pg_restore solo de ${p['tables']} en "${p['staging']}", con sus claves, índices, disparadores, secuencias y los tipos y funciones que usan`,
  'pg.restoreAll': (p: PhraseParams) =>
    `pg_restore de la copia en "${p['staging']}" (una transacción, se detiene al primer error)`,
  'pg.restoreAllJobs': (p: PhraseParams) =>
    `pg_restore de la copia en "${p['staging']}": primero su esquema, en una sesión, luego sus datos e índices en sesiones en paralelo (se detiene al primer error)`,
  'pg.dbProps': () =>
    'volver a aplicar propietario, ajustes (los suyos y los de sus roles en ella), privilegios, límite de conexiones y comentario de la base',
  'pg.checkExact': () => 'comprobar las filas de cada tabla contra la copia',
  'pg.checkEstimate': () => 'contar las filas de cada tabla (la copia solo tiene estimaciones)',
  'pg.refuseSessions': (p: PhraseParams) =>
    `negarse si hay sesiones conectadas a "${p['live']}" (salvo con --terminate-connections, que las cierra)`,
  'pg.swapPutBack': (p: PhraseParams) =>
    `Base ${p['item']}: la copia restaurada no pudo tomar el nombre "${p['live']}" (${p['error']}); la original se volvió a poner con su nombre, sin cambios.`,
  'pg.swapPutBackHint': (p: PhraseParams) =>
    `"${p['live']}" está como antes de la restauración. Revise el error (una sesión conectada a "${p['staging']}", los permisos del rol sobre bases) y restaure de nuevo.`,
  'pg.renameLive': (p: PhraseParams) => `renombrar "${p['live']}" a "${p['safety']}" (la copia de seguridad)`,
  'pg.rename': (p: PhraseParams) => `renombrar "${p['from']}" a "${p['to']}"`,
  'pg.failInPlace': (p: PhraseParams) =>
    `si algo falla antes de renombrar: borrar "${p['staging']}"; "${p['live']}" no se toca`,
  'pg.refuseExists': (p: PhraseParams) => `negarse si "${p['name']}" ya existe`,
  'pg.failSide': (p: PhraseParams) => `si algo falla: borrar "${p['staging']}"; no se toca ninguna base existente`,
  'pg.rollbackInPlace': (p: PhraseParams) =>
    `La base anterior se conserva como "${p['safety']}". Para volver atrás: ALTER DATABASE ${p['qLive']} RENAME TO <otro nombre>; ALTER DATABASE ${p['qSafety']} RENAME TO ${p['qLive']}. Borre la copia pre_restore (respaldo delete) para eliminarla cuando esté seguro.`,
  'pg.rollbackSide': (p: PhraseParams) =>
    `No se sustituye nada. Borre "${p['name']}" cuando ya no la necesite: DROP DATABASE ${p['qName']};`,
  'pg.rollbackCommand': (p: PhraseParams) =>
    `La base anterior se conserva como "${p['safety']}". ` +
    `Para volver atrás: respaldo restore <id de la copia pre_restore> --db ${p['db']} --yes ` +
    '(la vuelve a poner en uso; la restaurada se conserva como nueva copia de seguridad); a mano: ' +
    `ALTER DATABASE ${p['qLive']} RENAME TO <otro nombre>; ALTER DATABASE ${p['qSafety']} RENAME TO ${p['qLive']}. ` +
    'Borre la copia pre_restore (respaldo delete) para eliminarla cuando esté seguro.',
  'pg.swapBackRenames': (p: PhraseParams) =>
    `en una transacción: renombrar "${p['live']}" a "${p['newSafety']}" (la copia de seguridad) y "${p['safety']}" ` +
    `a "${p['live']}"; si falla alguno, las dos bases conservan sus nombres`,
  'pg.swapBackNoLive': (p: PhraseParams) =>
    `si "${p['live']}" no existe: solo renombrar "${p['safety']}" a "${p['live']}"`,
  'pg.rollbackSwapBack': (p: PhraseParams) =>
    `La base que se sustituye ahora se conserva como "${p['newSafety']}" en una nueva copia pre_restore; ` +
    `respaldo restore <id de esa copia> --db ${p['db']} --yes la vuelve a poner.`,

  'mssql.writeBak': (p: PhraseParams) =>
    `escribir el .bak guardado en ${p['local']} (el servidor lo lee como ${p['server']})`,
  'mssql.restore': (p: PhraseParams) =>
    `RESTORE FILELISTONLY y luego RESTORE DATABASE "${p['temp']}" WITH CHECKSUM, MOVE de cada archivo a nombres nuevos en las carpetas de datos y registro por defecto de la instancia, RECOVERY`,
  'mssql.restoreChain': (p: PhraseParams) =>
    `RESTORE DATABASE "${p['temp']}" desde el completo de la cadena WITH CHECKSUM, MOVE de cada archivo a nombres nuevos, NORECOVERY; luego sus copias diferenciales y de registro en orden (RESTORE DATABASE / RESTORE LOG … WITH NORECOVERY), la última WITH RECOVERY (STOPAT con restore --at); cada .bak se escribe en la carpeta compartida justo antes de su RESTORE y se quita después`,
  'mssql.counts': () => 'comparar las filas de cada tabla con el manifiesto',
  'mssql.setAside': (p: PhraseParams) =>
    `si "${p['live']}" existe: ponerla en SINGLE_USER (cerrando otras sesiones solo con --terminate-connections) y renombrarla a "${p['safety']}" (la copia de seguridad)`,
  'mssql.rename': (p: PhraseParams) => `renombrar "${p['temp']}" a "${p['live']}"`,
  'mssql.multiUser': (p: PhraseParams) => `volver a poner "${p['safety']}" en MULTI_USER; quitar el .bak temporal`,
  'mssql.renameSide': (p: PhraseParams) =>
    `renombrar "${p['temp']}" a "${p['live']}" (se niega si "${p['live']}" existe)`,
  'mssql.removeBak': () => 'quitar el .bak temporal',
  'mssql.rollbackInPlace': (p: PhraseParams) =>
    `La base anterior queda en el servidor como "${p['safety']}". Para volver atrás: renombre o borre "${p['live']}" y luego ALTER DATABASE ${p['qSafety']} MODIFY NAME = ${p['qLive']}. Si la restauración falla antes del cambio, "${p['live']}" no se toca y "${p['temp']}" se borra.`,
  'mssql.rollbackSide': (p: PhraseParams) =>
    `Borre "${p['live']}" cuando ya no la necesite (DROP DATABASE ${p['qLive']}).`,
  'mssql.countsEstimate': () =>
    'comparar las filas de cada tabla con las estimaciones del manifiesto (una diferencia es un aviso con las cifras)',
  'mssql.setAsideBatch': (p: PhraseParams) =>
    `si "${p['live']}" existe: ponerla en SINGLE_USER (cerrando otras sesiones solo con --terminate-connections) ` +
    `y renombrarla a "${p['safety']}" (la copia de seguridad) en un solo lote, ` +
    'reintentando si otra conexión la toma antes',
  'mssql.continueAfterError': () =>
    'la copia se hizo WITH CONTINUE_AFTER_ERROR de una base dañada: RESTORE se ejecuta WITH CONTINUE_AFTER_ERROR ' +
    'y el daño vuelve con ella (ejecute DBCC CHECKDB después)',
  'mssql.settings': () =>
    'volver a poner propietario, TRUSTWORTHY, Service Broker, modelo de recuperación, nivel de compatibilidad ' +
    'y solo lectura como estaban al hacer la copia; se informa de lo que no se pueda',
  'mssql.swapBackCheck': (p: PhraseParams) =>
    `comprobar que la copia de seguridad "${p['kept']}" existe y está ONLINE; ` +
    `se niega si hay sesiones en "${p['live']}" (salvo --terminate-connections)`,
  'mssql.swapBackRename': (p: PhraseParams) =>
    `renombrar "${p['kept']}" a "${p['live']}" y volver a poner "${p['safety']}" en MULTI_USER`,
  'mssql.swapBackNoLive': (p: PhraseParams) =>
    `si "${p['live']}" no existe: solo renombrar "${p['kept']}" a "${p['live']}"`,
  'mssql.rollbackSwapBack': (p: PhraseParams) =>
    `La base que esta vuelta atrás sustituye queda en el servidor como "${p['safety']}"; restaurar el nuevo ` +
    'conjunto pre_restore la vuelve a poner. Si el cambio falla, ambas bases conservan sus nombres.',

  'plan.safetyRenamed': (p: PhraseParams) => `${p['db']}: la base en uso se conserva como ${p['name']}`,
  'plan.safetySet': (p: PhraseParams) => `${p['db']}: se copia en una copia pre_restore antes de sustituirla`,
  'plan.safetyRenamedRefused': (p: PhraseParams) =>
    `${p['db']}: la base en uso se conserva en su servidor con otro nombre al sustituirla`,
  'plan.safetyNone': () => 'no se sustituye nada (restauración al lado)',
  'plan.safetyNothingThere': (p: PhraseParams) => `${p['db']}: nada que guardar, ahora no existe`,
  'plan.willTerminate': (p: PhraseParams) =>
    `Se cerrarán ${p['count']} sesión(es) conectadas a ${p['db']} en el cambio.`,
  'plan.noFiles': (p: PhraseParams) => `La copia ${p['set']} no tiene archivos.`,
  'plan.earlierSafetyRenamed': (p: PhraseParams) =>
    `${p['db']}: ${p['count'] === '1' ? 'sigue' : 'siguen'} en su servidor ${p['count']} ` +
    `${p['count'] === '1' ? 'copia' : 'copias'} de seguridad de restauraciones anteriores (${p['names']}), ` +
    `cada una una base entera; esta restauración guarda otra. ` +
    `Cuando ya no ${p['count'] === '1' ? 'la' : 'las'} necesite: ${p['commands']}`,
  'plan.earlierSafetySets': (p: PhraseParams) =>
    `${p['db']}: ${p['count'] === '1' ? 'sigue' : 'siguen'} en la carpeta de copias ${p['count']} ` +
    `${p['count'] === '1' ? 'copia' : 'copias'} pre_restore de restauraciones anteriores (${p['size']}); ` +
    `esta restauración añade otra. Cuando ya no ${p['count'] === '1' ? 'la' : 'las'} necesite: ${p['commands']}`,
  'plan.diskShort': (p: PhraseParams) =>
    `${p['dbs']}: restaurar necesita unos ${p['needed']} en el disco de ${p['path']}, que tiene ${p['free']} ` +
    `libres: la restauración lo llenaría y fallaría (lo que reemplaza queda como está). ` +
    `Libere espacio allí antes, o restaure en otro lugar con --to.`,
  'plan.serverDiskShortIgnored': (p: PhraseParams) =>
    `${p['dbs']}: restaurar necesita unos ${p['needed']} en el disco del servidor de bases de datos ` +
    `(${p['path']}), que tiene ${p['free']} libres; se restaura de todos modos (--ignore-free-space). ` +
    `Lleno, el servidor corta todas las sesiones y se reinicia.`,
  'plan.latestChosen': (p: PhraseParams) => `la más reciente es la copia ${p['set']}, que contiene: ${holdsEs(p)}`,
  'plan.setChosen': (p: PhraseParams) => `Se usa la copia ${p['set']}, que contiene: ${holdsEs(p)}`,
  'plan.passedOver': (p: PhraseParams) => `copias más recientes descartadas (lo que les falta): ${p['sets']}`,
  'plan.passedOverPaths': (p: PhraseParams) =>
    `${p['count']} copia(s) más reciente(s) no guardan ${p['paths']}, descartadas: ${p['sets']}`,

  'refuse.failedEntry': (p: PhraseParams) => `${p['db']} falló en la copia ${p['set']} (${p['reason']}).`,
  'refuse.failedEntryHint': (p: PhraseParams) => `Elija otra copia: respaldo list --db ${p['db']}`,
  'refuse.engineChanged': (p: PhraseParams) =>
    `La copia ${p['set']} guarda ${p['db']} como base ${p['stored']}, y ${p['db']} en la configuración es ahora ${p['now']}.`,
  'refuse.engineChangedHint': (p: PhraseParams) =>
    `Restáurela con una configuración en la que ${p['db']} sea la base ${p['stored']} que era (o a mano: README, restaurar sin respaldo).`,
  // `of`: the phrase of `reason`, its parameters among these prefixed `in.` (its own `set` is not this one's)
  'fetch.missingThere': (p: PhraseParams) =>
    `destino "${p['dest']}": falta ${p['file']}, aunque su manifiesto lo incluye.`,
  'fetch.sizeThere': (p: PhraseParams) =>
    `destino "${p['dest']}": ${p['file']} tiene allí ${p['size']} bytes y su manifiesto registra ${p['bytes']}.`,
  'fetch.changedThere': (p: PhraseParams) =>
    `destino "${p['dest']}": ${p['file']} no coincide con su manifiesto (cambiado o dañado allí).`,
  'fetch.notListed': (p: PhraseParams) => `destino "${p['dest']}": ${p['file']} no figura en su manifiesto.`,
  'fetch.damagedHint': (p: PhraseParams) => `${nothingDoneEs(p)}${repairThereEs(p)}`,
  'fetch.brokenChain': (p: PhraseParams): string =>
    `destino "${p['dest']}": la copia ${p['set']} tiene ${p['db']} como cambios sobre copias anteriores, y esa cadena no se puede usar: ${p['in.of'] ? PHRASES_ES[p['in.of'] as PhraseId](inner(p)) : p['reason']}.`,
  'fetch.brokenChainHint': (p: PhraseParams) =>
    p['held']
      ? `${nothingDoneEs(p)}Revise las copias de allí con respaldo list --from ${p['dest']}; restaure una copia anterior, o vuelva a copiar allí las que faltan (respaldo copy --to ${p['dest']}).`
      : `${nothingDoneEs(p)}Revise las copias de allí con respaldo list --from ${p['dest']} y restaure una copia anterior (una cuya cadena esté toda allí, o una completa); las que faltan solo pueden volver a copiarse allí desde un servidor que aún las tenga.`,
  'fetch.noRoom': (p: PhraseParams) =>
    `Traer la copia ${p['set']} del destino "${p['dest']}" necesita ${p['needed']} en la carpeta de copias ${p['dir']}, y su disco tiene ${p['free'] || 'menos'} libres. No se restauró nada; lo traído se eliminó.`,
  'create.folderReplaced': (p: PhraseParams) =>
    `La carpeta de copias ${p['dir']} no es la que había cuando arrancó el programador: ya no está, o se creó de nuevo en el punto de montaje de un disco desmontado entretanto. No se escribió nada.`,
  'create.folderReplacedHint': (p: PhraseParams) =>
    `Vuelva a montar el disco de copias en ${p['dir']} (o revise backupDir) y reinicie el programador; quite lo que haya creado allí entretanto.`,
  'fetch.noRoomToDrill': (p: PhraseParams) =>
    `La copia ${p['set']} del destino "${p['dest']}" no se puede probar aquí: un simulacro la trae antes a la carpeta de copias, y no hay espacio para ella en su disco. No se hizo ni registró ningún simulacro; no se guardó nada de lo traído.`,
  'fetch.noRoomToDrillHint': (p: PhraseParams) =>
    `Libere espacio en el disco de ${p['dir']}, haga el simulacro de menos bases a la vez con --db, o hágalo con una copia de la configuración cuyo "backupDir" esté en un disco con espacio (--config FICHERO).`,
  'fetch.noRoomHint': () =>
    'Vuelva a ejecutar la restauración con --stream: los archivos se leen entonces del destino a medida que se restauran, cada uno comprobado al leerlo, sin traer ninguno antes. O libere espacio en ese disco (`respaldo prune --dry-run` muestra lo que quitaría la retención, `respaldo delete <id>` quita una copia), o restaure con una copia de la configuración cuyo "backupDir" esté en un disco con espacio (`--config FICHERO`).',
  'refuse.brokenChain': (p: PhraseParams): string =>
    `La copia ${p['set']} tiene ${p['db']} como cambios sobre copias anteriores, y esa cadena no se puede usar: ${p['in.of'] ? PHRASES_ES[p['in.of'] as PhraseId](inner(p)) : p['reason']}.`,
  'refuse.brokenChainHint': (p: PhraseParams) =>
    `Revísela con respaldo verify --chain ${p['set']}; restaure una copia anterior (respaldo list --db ${p['db']}) o use restore --at con una hora anterior.`,
  'refuse.brokenChainNoOlderHint': (p: PhraseParams) =>
    `Revísela con respaldo verify --chain ${p['set']}; ninguna copia anterior de aquí restaura ${p['db']} tampoco: restáurela desde un destino (respaldo list --from NOMBRE) y haga ahora una copia completa con respaldo create --type full.`,
  'plan.chain': (p: PhraseParams) =>
    `${p['db']}: aplica ${p['count']} copias en orden: ${p['sets']} (${p['bytes']} guardados)`,
  'refuse.noSwapBack': (p: PhraseParams) =>
    `La copia ${p['set']} conserva ${p['db']} como la base "${p['safety']}" en su servidor, y el controlador ` +
    `${p['engine']} no sabe volver a ponerla.`,
  'refuse.noSwapBackHint': (p: PhraseParams) => `Renombre "${p['safety']}" a mano con las herramientas del servidor.`,
  'refuse.safetyGone': (p: PhraseParams) =>
    `La copia de seguridad "${p['safety']}" de ${p['db']} de la copia ${p['set']} ya no existe en su servidor ` +
    '(se borró o ya se volvió a poner).',
  'refuse.safetyGoneHint': (p: PhraseParams) =>
    `No hay nada a lo que volver con esta copia; respaldo list --db ${p['db']} muestra las demás.`,
  'refuse.raw': (p: PhraseParams) =>
    `La copia ${p['set']} tiene ${p['db']} como copia byte a byte de una base dañada (${p['file']}), no como copia restaurable.`,
  'refuse.rawHint': (p: PhraseParams) =>
    `Revísela a mano: ${p['cmd'] ?? 'gunzip -c'} ${p['path']} > /tmp/${p['db']}.damaged${p['sides'] ?? ''}` +
    (p['sides'] ? ' (SQLite, al abrirla, deshace o aplica lo que tiene su -journal o -wal al lado)' : ''),
  'refuse.schemaInPlace': (p: PhraseParams) =>
    `La copia ${p['set']} solo tiene el esquema de ${p['db']}; restaurarla en su sitio sustituiría los datos por tablas vacías.`,
  'refuse.schemaInPlaceHint': () => 'Restáurela al lado con --to, o elija una copia completa.',
  'refuse.serverDiskShort': (p: PhraseParams) =>
    `${p['dbs']}: restaurar necesita unos ${p['needed']} en el disco del servidor de bases de datos ` +
    `(${p['path']}), que tiene ${p['free']} libres. Lleno, el servidor cortaría todas las sesiones y se ` +
    `reiniciaría, con las bases en uso.`,
  'refuse.serverDiskShortHint': () =>
    `Libere espacio en ese disco (\`respaldo delete\` de una copia pre_restore borra una copia de seguridad ` +
    `anterior) o, si la estimación (el tamaño al hacer la copia) es demasiado alta, ejecute la restauración ` +
    `con --ignore-free-space (línea de órdenes).`,
  'refuse.drillNoRoom': (p: PhraseParams) =>
    `No hay espacio libre para el simulacro: restaura unos ${p['total']} (${p['list']}) en ${p['dir']}, y ese ` +
    `disco tiene ${p['free']} libres.`,
  'refuse.drillNoRoomHint': () =>
    'Libere espacio en el disco de la carpeta de copias (`respaldo prune --dry-run`), o simule menos bases a la vez con --db.',
  'refuse.serverDiskShortDrillHint': () =>
    'Libere espacio en ese disco, o haga el simulacro en un servidor con espacio (`drill.server` en la ' +
    'configuración; vea los simulacros de restauración).',
  'refuse.backupFillsServerDisk': (p: PhraseParams) =>
    `No se hace la copia: la carpeta de copias ${p['dir']} está en el disco en el que escribe sus datos el ` +
    `servidor PostgreSQL de ${p['dbs']}, que tiene ${p['free']} libres; se estima que esta copia necesita unos ` +
    `${p['needed']} (${estimateEs(p)}). Lleno, el servidor cortaría todas las sesiones y se reiniciaría.`,
  'refuse.backupFillsDatabaseDisk': (p: PhraseParams) =>
    `No se hace la copia: la carpeta de copias ${p['dir']} está en el disco de los ficheros SQLite de ${p['dbs']}, que ` +
    `tiene ${p['free']} libres; se estima que esta copia necesita unos ${p['needed']} (${estimateEs(p)}). Lleno, ` +
    `las escrituras de la aplicación en ellos fallarían hasta que la copia se rindiera.`,
  'refuse.backupFillsServerDiskHint': () =>
    'Libere espacio allí (respaldo prune --dry-run) o ponga backupDir en otro disco; si esta copia necesita mucho ' +
    'menos que la anterior, ejecute respaldo create --ignore-free-space.',
  'refuse.targetExists': (p: PhraseParams) => `${p['target']} ya existe; una restauración al lado nunca sobrescribe.`,
  'refuse.targetExistsHint': () => 'Elija otro destino (--to).',
  'refuse.readOnlyInPlace': (p: PhraseParams) =>
    `No se puede escribir en la carpeta de copias ${p['dir']} (${p['code']}): restaurar ${p['dbs']} en su sitio ` +
    'guardaría antes allí lo que sustituye, así que no se restauró nada.',
  'refuse.readOnlyInPlaceHint': () =>
    'Restaure al lado con --to (lee la carpeta tal como está), o vuelva a montar el disco en lectura y escritura ' +
    '(tras errores de E/S, mire antes `dmesg`) y restaure en su sitio.',
  'refuse.fullInPlace': (p: PhraseParams) =>
    `El disco de la carpeta de copias ${p['dir']} está lleno (${p['free']} libres): restaurar ${p['dbs']} en su ` +
    'sitio guardaría antes allí lo que sustituye, así que no se restauró nada.',
  'refuse.fullInPlaceHint': () =>
    'Restaure al lado en otro disco con --to (no necesita espacio en la carpeta de copias), o libere espacio allí ' +
    '(`respaldo prune --dry-run` muestra qué quitaría la retención; `respaldo delete <id>` quita una copia) y ' +
    'restaure en su sitio.',
  'refuse.fullInPlaceServerHint': (p: PhraseParams) =>
    `Restaure al lado de la base activa en una nueva (no necesita espacio en la carpeta de copias): ${p['command']}; ` +
    'o libere espacio allí (`respaldo prune --dry-run` muestra qué quitaría la retención; `respaldo delete <id>` ' +
    'quita una copia) y restaure en su sitio.',
  'refuse.inUse': (p: PhraseParams) => `${p['target']} está abierta por otro proceso (${p['users']}).`,
  'refuse.inUseHint': () => 'Detenga la aplicación que la usa y vuelva a restaurar.',
  'refuse.sessions': (p: PhraseParams) => `Hay ${p['count']} sesión(es) conectadas a ${p['db']}: ${p['sessions']}.`,
  'refuse.sessionsHint': () => 'Detenga la aplicación, o use --terminate-connections para cerrarlas en el cambio.',
  'refuse.missingRoles': (p: PhraseParams) =>
    `Base ${p['db']}: la copia nombra ${p['count']} rol(es) que este servidor no tiene (dueños, permisos): ` +
    `${p['roles']}. pg_restore se pararía en el primero; no se trajo ni se restauró nada.`,
  'refuse.missingRolesStoredHint': () =>
    'La copia necesita roles que este servidor no tiene, y esta copia los guardó: restaure de nuevo con ' +
    '--create-roles (solo se crean los que faltan; los existentes no se cambian).',
  'refuse.missingRolesHint': () =>
    'Esta copia no guardó los roles ("globals" estaba desactivado al hacerla). Cree en este servidor los roles ' +
    'nombrados arriba (en el servidor antiguo, `pg_dumpall --globals-only` los escribe todos; cargue ese archivo ' +
    'aquí con psql) y restaure de nuevo. Con "globals": true en la configuración, las copias siguientes guardan los ' +
    'roles y --create-roles crea los que faltan.',
  'refuse.filesTarget': (p: PhraseParams) =>
    `${p['to']} existe y no está vacía; los archivos restaurados nunca sobrescriben nada.`,
  'refuse.filesTargetHint': () => 'Elija una carpeta vacía o nueva con --to.',

  'error.interrupted': () => 'Interrumpido; no se publicó nada a medias.',
  'error.zstdMissing': (p: PhraseParams) => `Esta copia está comprimida con zstd, que Node ${p['node']} no puede leer.`,
  'error.zstdMissingHint': () =>
    'Ejecute respaldo con Node 22.15 o posterior (se recomienda la LTS 24), o descomprima a mano con `zstd -d` ' +
    '(README: restaurar a mano).',
  'error.interruptedHint': () => 'Repita la operación cuando quiera.',
  'error.interruptedUnchanged': () => 'Interrumpido; no se cambió nada.',
  'error.stoppedWaiting': () =>
    'Detenido mientras esperaba a la carpeta de copias (otro proceso de respaldo tenía su bloqueo); no se escribió nada.',
  'error.chainBase': (p: PhraseParams) =>
    `La copia ${p['id']} es la base de ${p['dependents']}: guardan solo los cambios sobre ella y ya no podrían restaurarse.`,
  'error.chainBaseHint': (p: PhraseParams) =>
    `Borre antes ${p['count'] === '1' ? 'esa copia' : 'esas copias'} (de la más nueva a la más antigua) o conserve esta.`,
  'config.schemaProblems': (p: PhraseParams): string =>
    schemaItems(
      p,
      (id, q) => PHRASES_ES[id as PhraseId](q),
      `${p['count']} problemas en la configuración:`,
      `y ${p['more']} más de los mismos tipos`,
    ),
  'config.schemaHints': (p: PhraseParams): string =>
    schemaHints(p, (id, q) => PHRASES_ES[id as PhraseId](q), 'Después repita la orden; no se cambió nada.'),
  'schema.required': (p: PhraseParams) => `falta (${p['parent'] || 'el nivel superior'} necesita "${p['field']}")`,
  'schema.requiredHint': (p: PhraseParams) => `Añada "${p['field']}" a ${p['parent'] || 'el nivel superior'}.`,
  'schema.unknownField': (p: PhraseParams) =>
    `no es un campo que respaldo conozca aquí${p['near'] ? ` (¿quería decir "${p['near']}"?)` : ''}`,
  'schema.unknownFieldHint': (p: PhraseParams) =>
    p['near']
      ? `Escriba "${p['near']}" (o quite el campo).`
      : `Corrija cómo está escrito o quítelo; los campos de aquí: ${p['known']}.`,
  'schema.enum': (p: PhraseParams) => `se encontró ${foundEs(p)}, se esperaba uno de ${p['allowed']}`,
  'schema.enumHint': (p: PhraseParams) => `Escriba uno de ${p['allowed']}.`,
  'schema.type': (p: PhraseParams) => `se encontró ${foundEs(p)}, se esperaba ${jsonTypeEs(p['type'])}`,
  'schema.typeHint': (p: PhraseParams) =>
    p['unquoted']
      ? `Escriba ${p['unquoted']} sin las comillas.`
      : p['example']
        ? `Escríbalo como un objeto: ${p['example']}${p['optional'] ? ` (otros campos que puede tener: ${p['optional']})` : ''}.`
        : p['fields']
          ? `Escriba ahí un objeto { … } con ${p['fields']}${p['optional'] ? ` (y, si hace falta, ${p['optional']})` : ''}.`
          : `Escriba ${jsonTypeEs(p['type'])} ahí.`,
  'schema.name': (p: PhraseParams) =>
    `se encontró ${foundEs(p)}, se esperaba un nombre de letras, cifras, _ . - (63 caracteres como mucho, sin empezar por . ni -)`,
  'schema.nameHint': () => 'Cámbielo usando solo esos caracteres: da nombre a carpetas y archivos.',
  'schema.hostKey': (p: PhraseParams) =>
    `se encontró ${foundEs(p)}, se esperaba la huella SHA-256 de la clave del servidor: "SHA256:" y 43 caracteres base64 (como la muestra \`ssh-keygen -lf\`)`,
  'schema.hostKeyHint': () =>
    'Ejecute `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` en el servidor y copie el SHA256:… que muestra.',
  'schema.empty': (p: PhraseParams) =>
    `está vacío, se esperaba ${p['limit'] === '1' ? 'un valor' : `al menos ${p['limit']} caracteres`}`,
  'schema.emptyHint': () => 'Rellénelo o quite el campo.',
  'schema.minimum': (p: PhraseParams) => `se encontró ${foundEs(p)}, se esperaba al menos ${p['limit']}`,
  'schema.maximum': (p: PhraseParams) => `se encontró ${foundEs(p)}, se esperaba como mucho ${p['limit']}`,
  'schema.rangeHint': (p: PhraseParams) =>
    `Escriba un número entero ${p['max'] ? `de ${p['min'] || '…'} a ${p['max']}` : `de al menos ${p['min']}`}.`,
  'schema.minItems': (p: PhraseParams) => `se encontraron ${p['count']} elementos, se esperaban al menos ${p['limit']}`,
  'schema.minItemsHint': (p: PhraseParams) =>
    `Añada ${p['limit'] === '1' ? 'un elemento' : `al menos ${p['limit']} elementos`} a la lista o quite el campo.`,
  'schema.unique': (p: PhraseParams) => `los elementos ${p['j']} y ${p['i']} son iguales (${p['found']})`,
  'schema.uniqueHint': () => 'Quite uno de los dos.',
  'schema.minProperties': (p: PhraseParams) => `está vacío ({}), se esperaba al menos ${p['limit']} campo(s)`,
  'schema.minPropertiesHint': () => 'Rellene sus campos o quítelo.',
  'schema.other': (p: PhraseParams) => `${p['text']}`,
  'config.notRegular': (p: PhraseParams) =>
    `${p['file']}: es ${kindEs(p['kind'])}, no un archivo de configuración (respaldo solo lee un archivo normal, y no leyó nada de ahí)`,
  'config.notRegularHint': () =>
    'Indique el archivo de configuración mismo con --config RUTA (o RESPALDO_CONFIG); una configuración que produce una orden (<(...)) puede escribirse antes en un archivo. No se cambió nada.',
  'config.dotEnvNotRegular': (p: PhraseParams) =>
    `${p['file']}: es ${kindEs(p['kind'])}, no un archivo: respaldo lee el archivo .env junto a la configuración para los valores de sus \${VAR} (líneas CLAVE=VALOR)`,
  'config.dotEnvNotRegularHint': () =>
    'Apártelo, o haga de .env un archivo de líneas CLAVE=VALOR, y repita la orden; no se cambió nada.',
  'config.tooLarge': (p: PhraseParams) =>
    `${p['file']}: ocupa ${p['size']}, más que cualquier ${p['dotEnv'] ? '.env de valores de ${VAR}' : 'configuración'} (respaldo lee como mucho ${p['max']}, y no leyó nada de ahí)`,
  'config.tooLargeHint': (p: PhraseParams) =>
    p['dotEnv']
      ? 'Un .env tiene unas pocas líneas CLAVE=VALOR: mire qué se escribió ahí (¿un registro, un volcado?), apártelo y deje solo sus líneas en un .env nuevo, y repita la orden. No se cambió nada.'
      : 'Una configuración ocupa unos pocos KB: compruebe que --config (o RESPALDO_CONFIG) indica el archivo de configuración mismo, no un registro, un volcado ni una base de datos. No se cambió nada.',
  'config.fixHint': () => 'Corrija el campo indicado arriba y repita; no se cambió nada.',
  'create.nothingBackedUp': (p: PhraseParams): string =>
    `No se pudo copiar nada: ${PHRASES_ES[p['of'] as PhraseId](p).replace(/\.$/, '')}. No se escribió ninguna copia.`,
  'create.safetyNotTaken': (p: PhraseParams): string =>
    `No se pudo tomar la copia de seguridad previa de ${p['failedDbs']}: ${PHRASES_ES[p['of'] as PhraseId](p).replace(/\.$/, '')}; no se restauró nada.`,
  'create.nothingBackedUpWhy': (p: PhraseParams) =>
    `No se pudo copiar nada: ${p['why']}. No se escribió ninguna copia.`,
  'create.safetyNotTakenWhy': (p: PhraseParams) =>
    `No se pudo tomar la copia de seguridad previa de ${p['failedDbs']}: ${p['why']}; no se restauró nada.`,
  'create.checkErrorsHint': () => 'Revise los errores de arriba y la configuración.',
  'restore.safetyNotTakenHint': () => 'Corrija el problema de arriba, o restaure al lado con --to.',
  'sqlite.hotJournal': (p: PhraseParams) =>
    `Base SQLite ${p['db']}: ${p['file']} tiene un journal pendiente (${p['journal']}): un proceso se detuvo en medio de una transacción y parte de ella está en el archivo. respaldo abre las bases solo para lectura y no puede deshacerla.`,
  'sqlite.hotJournalHint': (p: PhraseParams) =>
    `Ábrala una vez con el usuario de la aplicación (sqlite3 ${p['file']} 'PRAGMA integrity_check' deshace la transacción incompleta, como hace la aplicación al arrancar) y vuelva a lanzar la copia.`,
  'sqlite.walSideFiles': (p: PhraseParams) =>
    `Base SQLite ${p['db']}: ${p['file']} está en modo WAL, y SQLite solo lee un archivo así con su -shm y su -wal al lado, que el usuario que ejecuta respaldo (${p['user']}) no puede crear ni escribir en ${p['dir']} (${p['code']}).`,
  'sqlite.walSideFilesHint': () =>
    'Ejecute respaldo con el usuario de la aplicación, o permita a este usuario escribir en esa carpeta; no se cambió nada.',
  'sqlite.locked': (p: PhraseParams) =>
    `La base SQLite ${p['db']} está bloqueada por otro proceso${p['by'] ? ` (${p['by']})` : ''}.`,
  'sqlite.lockedHint': () =>
    'Inténtelo de nuevo cuando termine la escritura; en modo WAL (PRAGMA journal_mode=WAL) las copias no esperan a quien escribe.',
  'sqlite.lockedWal': (p: PhraseParams) =>
    `La base SQLite ${p['db']} está en modo WAL, donde la lectura no espera a la escritura, y aun así otro proceso${p['by'] ? ` (${p['by']})` : ''} la mantuvo bloqueada 10 s: la tiene en exclusiva (PRAGMA locking_mode=EXCLUSIVE), o no ha terminado un checkpoint o una recuperación.`,
  'sqlite.lockedWalHint': () =>
    'Haga la copia con esa aplicación detenida, o haga que use el modo de bloqueo normal; no se cambió nada.',
  'sqlite.pagesDamaged': (p: PhraseParams) =>
    `${PAGE_PART_ES[p['what'] ?? ''] ?? `Una parte (${p['what']}) de páginas SQLite guardada está dañada`} o no es de respaldo.`,
  'sqlite.pagesDamagedHint': () => 'Verifique la cadena (respaldo verify --chain ID) y restaure una copia anterior.',
  'sqlite.chainNoFull': (p: PhraseParams) =>
    `La copia ${p['set']} guarda solo las páginas de ${p['db']} que cambiaron desde la copia ${p['base']}; no se dio la copia completa con la que empieza su cadena.`,
  'sqlite.chainGap': (p: PhraseParams) =>
    `La copia ${p['set']} de la cadena de ${p['db']} se aplica sobre la copia ${p['base']}, no sobre la ${p['before']}: a la cadena le falta un eslabón. No se reemplazó nada.`,
  'sqlite.chainHint': (p: PhraseParams) =>
    `Restáurela con respaldo restore ${p['set']} (que aplica toda la cadena), o revísela con respaldo verify --chain ${p['set']}.`,
  'sqlite.chainNotDelta': (p: PhraseParams) =>
    `La copia ${p['set']} de la cadena de ${p['db']} no es un delta de páginas (${p['format']}).`,
  'sqlite.chainNotDeltaHint': () => 'Restaure esa copia sola, o una anterior.',
  'error.interruptedBeforeSwap': () => 'Restauración interrumpida antes del cambio; el destino no se modificó.',
  'error.interruptedBeforeSwapLive': () => 'Restauración interrumpida antes del cambio; la base en uso no se modificó.',
  'error.interruptedRestoreOf': (p: PhraseParams) =>
    `Restauración de ${p['db']} interrumpida; el destino quedó como estaba.`,
  'restore.diskFullStaging': (p: PhraseParams) =>
    `No queda espacio en el disco de la carpeta de copias ${p['dir']}${p['free'] ? ` (${p['free']} libres tras quitar los archivos de la restauración)` : ''}, donde la restauración de ${p['db']} prepara sus archivos: ${p['detail']}.`,
  'restore.diskFullStagingHint': () =>
    'El destino no cambió y la copia a medias se borró. Libere espacio allí (`respaldo prune --dry-run` muestra lo que la retención quitaría, `respaldo delete <id>` borra una copia) y vuelva a restaurar.',
  'restore.diskFullTarget': (p: PhraseParams) =>
    `No queda espacio en el disco donde se restaura ${p['db']} (${p['target']}): ${p['detail']}.`,
  'restore.diskFullTargetHint': () =>
    'El destino no cambió y la copia a medias se borró. Libere espacio en ese disco, o restaure al lado en otro disco con --to.',
  'error.diskFullStoring': (p: PhraseParams) =>
    `No queda espacio en el disco de la carpeta de copias ${p['dir']}${p['free'] ? ` (${p['free']} libres)` : ''} ` +
    `al guardar ${p['db']}.`,
  'error.diskFullHint': () =>
    'Libere espacio allí (`respaldo prune --dry-run` muestra lo que quitaría la retención; `respaldo delete <id>` ' +
    'borra una copia), o lleve "backupDir" a un disco mayor, y vuelva a hacer la copia. No se cambiaron las bases.',
  'error.diskFullSafetyHint': () =>
    'Libere espacio allí (`respaldo prune --dry-run` muestra lo que quitaría la retención; `respaldo delete <id>` ' +
    'borra una copia), o lleve "backupDir" a un disco mayor, y vuelva a restaurar (o restaure al lado con --to, que ' +
    'no necesita copia previa). No se cambió nada.',
  'sqlite.notFound': (p: PhraseParams) => `Base SQLite ${p['db']}: no se encuentra el archivo ${p['file']}`,
  'sqlite.notFoundHint': (p: PhraseParams) =>
    `Revise databases[].path de "${p['db']}" en la configuración, o restáurela desde una copia.`,
  'sqlite.notADb': (p: PhraseParams) => `Base SQLite ${p['db']}: ${p['file']} no es una base de datos SQLite.`,
  'sqlite.notADbHint': () =>
    'Revise databases[].path en la configuración; el archivo puede estar dañado (restáurelo desde una copia).',
  'sqlite.cantOpen': (p: PhraseParams) => `Base SQLite ${p['db']}: no se puede abrir ${p['file']} (${p['error']}).`,
  'sqlite.cantOpenHint': () => 'Compruebe que el usuario que ejecuta respaldo puede leer el archivo y su carpeta.',
  'sqlite.corrupt': (p: PhraseParams) => `Base SQLite ${p['db']}: ${p['file']} está dañada (${p['error']}).`,
  'sqlite.corruptHint': (p: PhraseParams) =>
    `Restaure la base desde la copia buena más reciente (\`respaldo list --db ${p['db']}\`).`,
  'sqlite.failed': (p: PhraseParams) => `Base SQLite ${p['db']}: ${p['error']} (${p['code']})`,
  'sqlite.failedHint': (p: PhraseParams) =>
    `Ejecute PRAGMA integrity_check sobre ${p['file']} con sqlite3; no se cambió nada.`,
  'sqlite.snapshotDamaged': (p: PhraseParams) =>
    `Base SQLite ${p['db']}: la instantánea no pasó integrity_check: ${p['problems']}`,
  'sqlite.snapshotDamagedHint': () =>
    'La base en uso está dañada. Ejecute PRAGMA integrity_check sobre ella y restáurela desde la copia buena más ' +
    'reciente.',
  'sqlite.copyUnreadable': (p: PhraseParams) =>
    `La copia restaurada de ${p['db']} no se puede leer como base SQLite: ${p['why']}.`,
  'sqlite.copyUnreadableHint': () => 'No se tocó el destino. Verifique la copia (respaldo verify) y pruebe con otra.',
  'sqlite.copyDamaged': (p: PhraseParams) =>
    `La copia restaurada de ${p['db']} no pasó integrity_check: ${p['problems']}`,
  'sqlite.copyDamagedHint': () => 'No se tocó el destino. Pruebe con otra copia.',
  'sqlite.noFolder': (p: PhraseParams) => `La carpeta ${p['dir']} no existe.`,
  'sqlite.noFolderHint': (p: PhraseParams) => `Créela (allí está la base ${p['db']}) y vuelva a restaurar.`,
  'error.lockHeld': () => 'Otro proceso de respaldo está trabajando en esta carpeta de copias.',
  'error.lockHeldBy': (p: PhraseParams) =>
    `Otro proceso de respaldo está trabajando en esta carpeta de copias (${purposeEs(p['purpose'] ?? '')}, pid ${p['pid']} en ${p['host']} desde ${p['startedAt']}).`,
  'error.lockHeldHint': (p: PhraseParams) =>
    `Espere a que termine. Si está seguro de que no hay ningún respaldo en marcha, borre ${p['lockFile']}.`,
  'error.lockHeldLiveHint': (p: PhraseParams) =>
    `Espere a que termine (el pid ${p['pid']} está en marcha) y vuelva a ejecutar esto; no borre su archivo de bloqueo ${p['lockFile']} mientras funcione.`,
  'error.restoreVerify': (p: PhraseParams) =>
    `La copia ${p['set']} no pasó la verificación; no se restauró nada: ${verifyProblemsEs(p['problems'])}`,
  'restore.damagedRead': (p: PhraseParams) =>
    `Copia ${p['set']}: ${p['file']} ${p['why'] === 'longer' ? 'es más largo de lo que dice su manifiesto (cambiado o dañado)' : 'no coincide con su manifiesto (sha256): cambiado o dañado'}; no se restauró nada de ella.`,
  'restore.damagedFound': (p: PhraseParams) =>
    `Copia ${p['set']}: ${verifyProblemsEs(p['problems'])}; no se restauró nada de ella.`,
  'restore.damagedHint': () =>
    'Restaure desde otra copia (`respaldo list`), o desde una copia en un destino (`respaldo list --from <destino>`).',
  'error.restoreVerifyHint': () =>
    'Restaure desde otra copia (`respaldo list`) y revise el disco donde están las copias.',
  'error.identityPassphrase': (p: PhraseParams) => `La frase de paso no abre el archivo de identidad ${p['path']}.`,
  'error.identityPassphraseHint': (p: PhraseParams) =>
    `Ponga la frase de paso del archivo de identidad en ${p['file']} (el archivo que nombra ${p['env']}), o quite ${p['env']} para que se pida.`,
  'error.identityPassphraseTyped': () => 'Escríbala de nuevo.',
  'error.identityPassphraseTerminal': () =>
    'Vuelva a ejecutar la orden y escriba la frase de paso con la que se protegió el archivo de identidad (`age -p`); no se cambió nada.',
  'error.wrongIdentity': (p: PhraseParams) =>
    `El archivo de identidad ${p['path']} no tiene la clave de la copia ${p['set']}: abre ${p['opens']}, y la ` +
    `copia se cifró para ${p['recipients']}.`,
  'error.wrongIdentityHint': () =>
    'Use el archivo de identidad cuya clave pública aparece arriba (su línea "# public key:"); una copia antigua ' +
    'puede necesitar una clave antigua.',
  'error.identityUnparsable': (p: PhraseParams) =>
    `El archivo de identidad ${p['path']} no tiene ninguna identidad age válida: sus ${p['count']} línea(s) ` +
    'AGE-SECRET-KEY no se pueden leer (¿cortadas o dañadas?).',
  'error.identityUnparsableHint': () =>
    'Use el archivo de identidad que escribió `respaldo key generate` (o una copia suya); `age-keygen -y ARCHIVO` ' +
    'muestra si un archivo tiene una clave válida.',
  'error.noKeyOpens': (p: PhraseParams) => `Ninguna clave dada abre ${p['label']}.`,
  'error.noKeyOpensHint': () =>
    'Revise "encryption.identityFile" (o la frase de paso): la copia se cifró para otra clave.',
  'error.noIdentity': (p: PhraseParams) =>
    `La copia ${p['set']} está cifrada (age, para ${p['recipients']}) y la configuración no nombra ninguna identidad para descifrarla.`,
  'error.noIdentityHint': (p: PhraseParams) =>
    `Añada "identityFile": "/ruta/a/key.txt" a "encryption" en ${p['config']} (el archivo que escribió \`respaldo key generate\` o age-keygen, cuya clave pública es ${p['recipients']}) y vuelva a ejecutar la orden.`,
  'error.noEncryptionHint': (p: PhraseParams) =>
    `Añada "encryption": { "recipients": [${p['quoted']}], "identityFile": "/ruta/a/key.txt" } a ${p['config']} (el destinatario de la copia y el archivo que escribió \`respaldo key generate\` o age-keygen) y vuelva a ejecutar la orden.`,
  'error.passphraseFile': (p: PhraseParams) =>
    `No se puede leer el archivo de la frase de paso que indica ${p['env']}: ${p['file']} (${p['kind'] ? `es ${kindEs(p['kind'])}, no un archivo normal` : p['why'] === 'empty' ? 'está vacío' : p['why']}).`,
  'error.passphraseFileHint': (p: PhraseParams) =>
    `Ponga la frase de paso en ese archivo (modo 0600), o quite ${p['env']} para que se pida en el terminal (el menú también la pide), y vuelva a intentarlo.`,
  'error.wrongPassphrase': (p: PhraseParams) => `Frase de paso incorrecta: no abre la copia ${p['set']}.`,
  'error.wrongPassphraseHint': () =>
    'Escriba la frase de paso con la que se cifró la copia (la de "encryption.passphraseFile" en el servidor que la hizo).',
  'error.wrongPassphraseFileHint': (p: PhraseParams) =>
    `Ponga la frase de paso con la que se cifró la copia (la de "encryption.passphraseFile" en el servidor que la hizo) en ${p['file']} (el archivo que nombra ${p['env']}), o quite ${p['env']} para que se pida.`,
  'error.wrongPassphraseConfigHint': (p: PhraseParams) =>
    `La frase de paso de ${p['file']} ("encryption.passphraseFile") no es la que cifró la copia (¿se cambió después?): ponga esa en el archivo y vuelva a intentarlo; no se cambió nada.`,
  'error.otherPassphrase': (p: PhraseParams) =>
    `Esa frase de paso abre la copia ${p['opened']}, pero no la copia ${p['locked']}, que se cifró con otra.`,
  'error.otherPassphraseHint': (p: PhraseParams) => `Escriba la frase de paso de la copia ${p['locked']}.`,

  'dest.unreachable': (p: PhraseParams) =>
    `destino "${p['dest']}": ${p['where']} no responde o cerró la conexión (${doingEs(p['doing'])}: ${p['detail']})`,
  'dest.unreachableHint': (p: PhraseParams) =>
    `Revise la red y ${p['server'] === 'ssh' ? 'el servidor SSH' : p['server'] === 'store' ? 'el almacén' : 'el remoto'}, y repita la orden.`,
  'dest.notMounted': (p: PhraseParams) => `destino "${p['dest']}": ${p['path']} no existe (¿no está montado?)`,
  'dest.mountHint': () => 'Móntelo y repita la orden.',
  'dest.folderInTheWay': (p: PhraseParams) =>
    p['removing']
      ? `destino "${p['dest']}": al borrar ${p['key']}: hay una carpeta donde respaldo guarda un archivo`
      : `destino "${p['dest']}": al escribir ${p['key']}: hay una carpeta donde respaldo escribe un archivo`,
  'dest.folderInTheWayHint': (p: PhraseParams) =>
    `respaldo solo escribe archivos allí: averigüe quién puso ${p['where']} ahí; bórrela (o la copia de allí, \`respaldo delete ${p['set']} --from ${p['dest']}\`) y vuelva a ejecutar ${p['removing'] ? 'la orden' : '`respaldo copy`'}.`,
  'dest.pathMissing': (p: PhraseParams) =>
    `destino "${p['dest']}": la ruta ${p['path']} no existe en ese remoto (no guarda ninguna copia)`,
  'dest.pathMissingHint': (p: PhraseParams) =>
    `Revise "path" del destino "${p['dest']}" (¿una errata?); la primera orden \`respaldo copy\` hacia él la crea.`,
  'dest.created': (p: PhraseParams) =>
    `se creó ${p['path']} (la ruta del destino "${p['dest']}" no existía allí; revise "path" si no era esa)`,
  'dest.retried': (p: PhraseParams) =>
    `${p['count']} petición(es) a ${p['dest']} repetida(s) tras un fallo pasajero (una conexión perdida, un tiempo agotado, un error del servidor): revise el enlace si se repite` +
    (p['error'] ? ` (la primera: ${p['pid'] ? nestedEs(p) : p['error']})` : ''),
  'dest.notAFolder': (p: PhraseParams) => `destino "${p['dest']}": ${p['path']} no es una carpeta`,
  'dest.notAFolderHint': (p: PhraseParams) =>
    `Haga que "path" del destino "${p['dest']}" sea la carpeta donde van las copias (un montaje NAS o USB).`,

  'pgconn.refused': (p: PhraseParams) => `PostgreSQL en ${p['at']} rechazó la conexión (${doingEs(p['doing'])}).`,
  'pgconn.refusedHint': (p: PhraseParams) =>
    `¿Está el servidor en marcha y escuchando en ${p['at']}? Revise host y port en la configuración.`,
  'pgconn.hostNotFound': (p: PhraseParams) =>
    `No se encuentra el host de PostgreSQL ${p['host']} (${doingEs(p['doing'])}).`,
  'pgconn.hostNotFoundHint': () => 'Revise el nombre del host en la configuración y el DNS de esta máquina.',
  'pgconn.unreachable': (p: PhraseParams) =>
    `No se llega a PostgreSQL en ${p['at']} (${p['detail']}; ${doingEs(p['doing'])}).`,
  'pgconn.drillServerHint': () =>
    'Revise "drill.server" en la configuración (host, puerto, usuario, contraseña): los simulacros restauran allí. Sin él, cada base se prueba en su propio servidor.',
  'pgconn.unreachableHint': () => 'Revise la red y el cortafuegos hasta el servidor de la base.',
  'pgconn.authFailed': (p: PhraseParams) =>
    `PostgreSQL en ${p['at']} rechazó la contraseña del usuario "${p['user']}" (falló la autenticación por contraseña).`,
  'pgconn.authFailedHint': () =>
    'Revise el usuario y la contraseña de la configuración (su "password", o la variable ${…} que nombra, leída del entorno o de .env) y repita; no se cambió nada.',
  'pgconn.authFailedVarHint': (p: PhraseParams) =>
    `La contraseña viene de ${p['variable']}: revise ${p['variable']} en el entorno o en .env (y el usuario en la configuración), y repita; no se cambió nada.`,
  'pgconn.noDatabase': (p: PhraseParams) => `PostgreSQL en ${p['at']}: la base "${p['db']}" no existe.`,
  'pgconn.noDatabaseHint': (p: PhraseParams) =>
    `Revise el nombre de la base en la configuración; \`psql -l\` lista las bases de ${p['at']}.`,
  'pgconn.starting': (p: PhraseParams) => `PostgreSQL en ${p['at']} está arrancando o deteniéndose.`,
  'pgconn.startingHint': () => 'Espere a que el servidor acepte conexiones y repita la orden.',
  'pgconn.lost': (p: PhraseParams) =>
    `Se perdió la conexión con PostgreSQL en ${p['at']} (${doingEs(p['doing'])}): ${p['detail']}`,
  'pgconn.lostHint': (p: PhraseParams) => `¿Está en marcha el servidor de ${p['at']}? Revíselo y repita.`,
  'pg.sessionsEndedHint': (p: PhraseParams) =>
    `El servidor de ${p['at']} cerró todas las sesiones de la restauración (un proceso del servidor falló y el servidor se recuperó, o se terminaron las sesiones) y vuelve a aceptar conexiones: la restauración se detuvo ahí y no se cambió nada (se eliminó la base temporal). Su registro dice por qué; después repita la misma restauración.`,
  'pg.restartedHint': (p: PhraseParams) =>
    `El servidor de ${p['at']} se reinició (en marcha de nuevo desde ${p['since']}) durante la restauración, lo que cerró sus sesiones: la restauración se detuvo ahí y no se cambió nada (se eliminó la base temporal). Repita la misma restauración.`,

  'drill.notRunServerAway': (p: PhraseParams) =>
    `El simulacro de la copia ${p['set']} no se hizo (no se pudo usar el servidor de ${p['db']}): no se restauró ` +
    'ni se registró nada, y la copia no se da por mala.',
  'drill.stoppedServerAway': (p: PhraseParams) =>
    `El simulacro de la copia ${p['set']} se detuvo (ya no se pudo usar el servidor de ${p['db']}): no se ` +
    'registró nada, y la copia no se da por mala.',
  'drill.stoppedServerDiskFull': (p: PhraseParams) =>
    `El simulacro de la copia ${p['set']} se detuvo (se llenó el disco del servidor de ${p['db']} durante su ` +
    'restauración de prueba): no se registró nada, y la copia no se da por mala.',
  'drill.storedFiles': () => 'los archivos guardados coinciden con el manifiesto',
  'drill.restore': () => 'restauración',
  'drill.into': (p: PhraseParams) => `en ${p['target']}`,
  'drill.rowCounts': () => 'filas por tabla contra el manifiesto',
  'drill.tables': (p: PhraseParams) => `${p['n']} tabla(s)`,
  'drill.noCounts': () => 'el manifiesto no registra filas por tabla',
  'drill.notCleanHint': (p: PhraseParams) =>
    `La copia ${p['set']} no se restaura limpiamente: use otra copia y vuelva a hacer copia de ${p['db']}.`,
  'drill.extracted': () => 'extraídos',
  'drill.entries': (p: PhraseParams) => `${p['n']} entrada(s)`,
  'drill.extractedSizes': () => 'los tamaños extraídos coinciden con el manifiesto',
  'drill.filesDamaged': (p: PhraseParams) =>
    `Copia ${p['set']}: ${p['n']} archivo(s) guardado(s) no coinciden con el manifiesto.`,
  'drill.filesDamagedHint': () => 'No restaure archivos de esta copia; use otra copia.',
  'drill.amcheckOk': () => 'heap e índices B-tree: sin corrupción',
  'drill.noErrors': () => 'sin errores',

  'when.time': (p: PhraseParams) => `"${p['when']}": se esperaba una hora de 24 horas como 02:00, no "${p['text']}"`,
  'when.timeRange': (p: PhraseParams) => `"${p['when']}": ${p['text']} no es una hora del día (00:00 a 23:59)`,
  'when.empty': () => 'la expresión de horario está vacía',
  'when.weekday': (p: PhraseParams) =>
    `"${p['when']}": "${p['day']}" no es un día de la semana (monday … sunday, en inglés)`,
  'when.monthDay': (p: PhraseParams) => `"${p['when']}": el día ${p['day']} no es un día del mes (1 a 31)`,
  'when.monthDayRare': (p: PhraseParams) =>
    `"${p['when']}": el día ${p['day']} no existe en todos los meses, así que algunos meses no tendrían copia; escriba "monthly on last day at …" para el último día del mes`,
  'when.minute': (p: PhraseParams) => `"${p['when']}": el minuto ${p['minute']} está fuera de rango (00 a 59)`,
  'when.unknown': (p: PhraseParams) => `"${p['when']}" no es un horario que respaldo entienda`,
  'when.cron': (p: PhraseParams) =>
    `"${p['when']}" no es ni una forma simple ni una expresión cron válida (${p['detail']})`,
  'when.hint': () =>
    'Use una expresión cron ("0 2 * * *") o una forma como "daily at 02:00", "weekly on sunday at 23:30", "monthly on day 1 at 00:00".',
  'when.timezone': (p: PhraseParams) => `"${p['timezone']}" no es una zona horaria`,
  'note.jobsCut': (p: PhraseParams) =>
    `${p['item']}: el servidor tiene ${p['free']} conexión(es) libre(s): ${p['tool']} se ejecuta con --jobs=${p['jobs']} en lugar de ${p['wanted']}`,
  'note.safetyTaking': (p: PhraseParams) => `Haciendo una copia de seguridad de ${p['dbs']} antes de reemplazarla`,
  'note.safetyRemoved': (p: PhraseParams) =>
    `No se reemplazó nada: se borró la copia de seguridad hecha para esta restauración (copia ${p['id']}).`,
  'note.passedOverLacking': (p: PhraseParams) =>
    `se pasa por alto la copia ${p['set']} de ${p['dest']}: le falta ${(p['lacks'] ?? '').replace(/\bfiles\b/, 'archivos')}`,
  'note.fetching': (p: PhraseParams) => `descargando la copia ${p['id']}${chainEs(p)} de ${p['name']}: ${filesEs(p)}`,
  'note.fetchingPart': (p: PhraseParams) =>
    `solo lo que elige --path: ${p['count']} de los ${p['stored']} archivo(s) guardados de la copia ${p['id']} en ${p['name']}, ${p['bytes']} de ${p['storedBytes']}`,
  'note.planRead': (p: PhraseParams) =>
    `leído el manifiesto de la copia ${p['id']}${chainEs(p)} en ${p['name']} (${filesEs(p)} allí, no descargados para un plan)`,
  'note.streamingAsked': (p: PhraseParams) =>
    `la copia ${p['id']}${chainEs(p)} llega de ${p['name']} directamente a la restauración (--stream): ${filesEs(p)}, cada uno comprobado al leerlo`,
  'note.streamingNoRoom': (p: PhraseParams) =>
    `la copia ${p['id']}${chainEs(p)} llega de ${p['name']} directamente a la restauración (no hay sitio para descargarla antes: necesita ${p['needed']} y el disco de ${p['dir']} tiene ${p['free']} libres): ${filesEs(p)}, cada uno comprobado al leerlo`,
  'note.streamingFilled': (p: PhraseParams) =>
    `la copia ${p['id']}${chainEs(p)} llega de ${p['name']} directamente a la restauración (el disco de ${p['dir']} se llenó al descargarla): ${filesEs(p)}, cada uno comprobado al leerlo`,
  'note.resumed': (p: PhraseParams) => `${p['error']}; se retoma ese archivo donde se cortó, tras ${p['after']}`,
  'health.overdue': (p: PhraseParams) =>
    `${p['db']}: atrasada: ninguna copia correcta desde la prevista a las ${p['due']} (la última hace ${p['age']}, conjunto ${p['set']})`,
  'health.overdueNever': (p: PhraseParams) =>
    `${p['db']}: atrasada: ninguna copia correcta desde la prevista a las ${p['due']} (nunca se ha copiado)`,
  'health.never': (p: PhraseParams) => `${p['db']}: nunca se ha copiado`,
  'health.slow': (p: PhraseParams) =>
    `${p['db']}: la última copia tardó ${p['took']}, más de un 50 % de lo habitual (mediana ${p['median']} de las ${p['count']} anteriores)`,
  'health.shrank': (p: PhraseParams) =>
    `${p['db']}: la última copia ocupa ${p['size']}, más de un 30 % menos que la anterior (${p['previous']}): compruebe que no se han perdido datos`,
  'health.grew': (p: PhraseParams) =>
    `${p['db']}: la última copia ocupa ${p['size']}, más del doble que la anterior (${p['previous']})`,
  'health.verifyFailed': (p: PhraseParams) =>
    `${p['db']}: la copia más reciente (conjunto ${p['set']}) no pasó la verificación del ${p['when']}: un archivo guardado de ese conjunto está dañado (\`respaldo verify ${p['set']}\` dice cuál; puede ser de otra base), así que puede no restaurarse; ejecute respaldo create y revise el disco de la carpeta de copias`,
  'health.drillFailed': (p: PhraseParams) =>
    `${p['db']}: el último simulacro de restauración (conjunto ${p['set']}, ${p['when']}) falló`,
  'health.drillFailedWhy': (p: PhraseParams) =>
    `${p['db']}: el último simulacro de restauración (conjunto ${p['set']}, ${p['when']}) falló: ${p['pid'] ? nestedEs(p) : p['error']}`,
  'health.failures': (p: PhraseParams) =>
    `${p['db']}: fallaron ${p['failed']} de ${p['count']} copias en los últimos 30 días`,
  'health.failuresLast': (p: PhraseParams) =>
    `${p['db']}: fallaron ${p['failed']} de ${p['count']} copias en los últimos 30 días, también la última (${p['when']}): ${p['error']}`,
  'health.lowDisk': (p: PhraseParams) =>
    `carpeta de copias: ${p['free']} libres, menos de los ${p['bytes']} bytes (${p['needed']}) que pide health.minFreeBytes`,
  'health.notCopied': (p: PhraseParams) =>
    `fuera del servidor: el conjunto más reciente ${p['set']} no está copiado en ${p['dest']} (respaldo copy lo envía)`,
  'health.damagedSet': (p: PhraseParams) =>
    `conjunto ${p['set']}: ${p['problem']} (\`respaldo verify --all\` lo muestra; nunca se restaura)`,
  'health.aheadSet': (p: PhraseParams) =>
    `conjunto ${p['set']}: fechado ${p['at']}, por delante del reloj de esta máquina: cuenta como la copia más reciente y puede ocultar una atrasada (revise el reloj: timedatectl; prune se niega hasta que las fechas cuadren)`,
  'health.filesPartial': (p: PhraseParams) =>
    `archivos: la copia más reciente (conjunto ${p['set']}) no guardó ${p['count']} archivo(s) de configuración y de la aplicación (\`respaldo show ${p['set']}\` dice cuáles y por qué)`,
  'health.chainBroken': (p: PhraseParams) =>
    `${p['db']}: la copia más reciente (conjunto ${p['set']}) no se puede restaurar: ${nestedEs(p)} (restore latest usa un conjunto anterior; \`respaldo create --type full\` empieza una cadena nueva)`,
  'health.chainBrokenNoFallback': (p: PhraseParams) =>
    `${p['db']}: la copia más reciente (conjunto ${p['set']}) no se puede restaurar: ${nestedEs(p)}, y ningún conjunto anterior la restaura tampoco (\`respaldo create --type full\` hace uno ahora)`,
  'folder.none': (p: PhraseParams) => `no existe la carpeta ${p['dir']}`,
  'folder.notAFolder': (p: PhraseParams) => `${p['dir']} no es una carpeta`,
  'folder.notWritable': (p: PhraseParams) => `este usuario no puede escribir en ${p['dir']}`,
  'folder.readOnly': (p: PhraseParams) => `${p['dir']} está en un sistema de archivos de solo lectura`,
  'health.backupDirUnwritable': (p: PhraseParams) =>
    `carpeta de copias: no se puede escribir en ${p['dir']} (${p['pid'] ? nestedEs(p) : p['reason']}): todas las copias fallarán (vuelva a montar el disco en lectura y escritura, o dé permiso de escritura al usuario que ejecuta respaldo)`,
  'error.readOnlyFs': (p: PhraseParams) =>
    `Sistema de archivos de solo lectura${p['on'] ? ` en ${p['on']}` : ''}${systemDetail(p)}.`,
  'error.readOnlyFsHint': () =>
    'Ese disco está montado solo para lectura (a menudo tras errores de E/S: revise `dmesg`): vuelva a montarlo en lectura y escritura, o apunte "backupDir" a un disco donde se pueda escribir, y repita la orden. Una restauración con --to lee una carpeta de copias así tal como está; en su sitio, léala como destino de tipo carpeta (README: "A backup folder on a disk mounted read-only").',
  'error.permissionDenied': (p: PhraseParams) =>
    `Permiso denegado${p['on'] ? ` en ${p['on']}` : ''}${systemDetail(p)}.`,
  'error.permissionDeniedHint': () =>
    'Ejecute respaldo con el usuario dueño de la carpeta de copias y de la configuración (o corrija su dueño y sus permisos), y repita la orden.',
  'error.noSpace': (p: PhraseParams) =>
    `No queda espacio en el disco${p['on'] ? ` de ${p['on']}` : ''}${systemDetail(p)}. No se publicó nada.`,
  'error.noSpaceHint': () =>
    'Libere espacio en el disco de la carpeta de copias (`respaldo prune --dry-run`, `respaldo delete <id>`), o apunte "backupDir" a un disco mayor, y repita la orden.',
  'health.metricsUnwritable': (p: PhraseParams) =>
    `métricas: no se puede escribir metrics.textfile ${p['file']} (${p['pid'] ? nestedEs(p) : p['reason']}): Prometheus no recibe cifras de respaldo, o recibe las antiguas (cree la carpeta o corrija la ruta en la configuración)`,
  'note.notifying': (p: PhraseParams) =>
    `Avisando a ${p['name']} de cómo terminó (un canal que no responde se reintenta)`,
  'note.decrypting': (p: PhraseParams) =>
    `Descifrando ${p['count']} archivo(s) de ${p['id']} (cada uno comprobado entero)`,
  'note.alsoParent': (p: PhraseParams) =>
    `${p['item']}: también se restauró ${p['table']} (una tabla elegida es partición o hija suya)`,
  'note.alsoPartition': (p: PhraseParams) =>
    `${p['item']}: también se restauró la partición ${p['table']} (de una tabla particionada elegida)`,
  'note.notRestoredView': (p: PhraseParams) => `no restaurado: ${p['what']} (con --table solo se restauran tablas)`,
  'note.notRestoredNeedsTable': (p: PhraseParams) =>
    `no restaurado: ${p['what']} (necesita una tabla que no se eligió)`,
  'note.killedRunRoles': (p: PhraseParams) =>
    `los roles ${p['roles']} de ${p['server']}, creados por una restauración de la copia ${p['set']} que se mató (${p['at']}), se quedan: esta restauración terminó, así que respaldo los olvida ahora. Si nada los usa: ${p['sql']}`,
  'note.triggerNamesLeftOut': (p: PhraseParams) =>
    `el trigger ${p['trigger']} de ${p['table']} ejecuta ${p['fn']}, que nombra ${p['tables']}, no restaurada: lo que escribió allí para estas filas no está en "${p['db']}", y escribir en ${p['table']} allí falla hasta que ${p['tables']} esté también (añádala con --table)`,

  'note.restoredDamaged': (p: PhraseParams) =>
    `restaurada tal como estaba al reemplazarla: ya fallaba integrity_check entonces y lo falla ahora (${p['problems']})`,
  'note.readOnlyFolder': (p: PhraseParams) =>
    `no se puede escribir en la carpeta de copias ${p['dir']} (${p['code']}): se restaura desde ella tal como ` +
    'está, sin bloqueo, registro ni recuperación allí (sus archivos temporales van a la carpeta temporal del sistema)',
  'note.fullFolder': (p: PhraseParams) =>
    `el disco de la carpeta de copias ${p['dir']} está lleno (${p['free']} libres): se restaura desde ella con sus ` +
    'archivos temporales en la carpeta temporal del sistema, sin recuperar ejecuciones interrumpidas; un registro ' +
    'que no se pueda escribir allí se avisa y no detiene la restauración',
  'note.recordNotWritten': (p: PhraseParams) =>
    `no se pudo escribir ${p['file']} de la copia ${p['id']} en la carpeta de copias (${p['error']}); no afecta a lo hecho`,
  'note.restoredBefore': (p: PhraseParams) =>
    `Eso fue ${p['stopped']}; restauradas antes de que se detuviera, así que sustituidas: ${p['dbs']}. ${p['rollback']}`,
  'note.decryptAsRestored': (p: PhraseParams) =>
    `La carpeta de copias ${p['dir']} no tiene sitio para descifrar antes la copia ${p['id']} entera (necesita ${p['needed']}, hay ${p['free']} libres): cada archivo se descifra y comprueba al restaurarlo`,
  'note.safetyRound': (p: PhraseParams) =>
    `una restauración anterior de esta copia aún conserva su copia de seguridad "${p['earlier']}"; ` +
    `esta conserva la base que sustituye como "${p['safety']}", a su lado`,
  'note.droppingStale': (p: PhraseParams) => `borrando "${p['name']}", que dejó una restauración interrumpida`,
  'note.propertyNotRestored': (p: PhraseParams) => `propiedad de la base no restaurada (${p['sql']}): ${p['error']}`,
  'note.couldNotDrop': (p: PhraseParams) => `no se pudo borrar "${p['name']}": ${p['error']}`,
  'note.replacedDamaged': (p: PhraseParams) =>
    `la base que se sustituye no pasa integrity_check; se guarda tal como está (${p['problems']})`,
  'note.replacedUnreadable': (p: PhraseParams): string =>
    `${p['file']} no se puede leer como base SQLite (${p['of'] ? PHRASES_ES[p['of'] as PhraseId](p).replace(/\.$/, '') : p['reason']}); se guardan sus bytes tal como están`,
  'note.couldNotDropRole': (p: PhraseParams) =>
    `no se pudo borrar un rol creado para esta restauración (${p['sql']}): ${p['error']}`,

  // Roles de la copia que una restauración con --create-roles no crea
  'role.notInBackup': (p: PhraseParams) => `rol ${p['role']} no creado: no está en la copia`,
  'role.exists': (p: PhraseParams) => `el rol ${p['role']} ya existe en el servidor: se deja sin cambios`,
  'role.reserved': (p: PhraseParams) =>
    `rol ${p['role']} no creado: los nombres que empiezan por pg_ están reservados a los roles predefinidos de PostgreSQL`,
  'role.attributes': (p: PhraseParams) =>
    `rol ${p['role']} no creado: sus atributos contienen "${p['problem']}", que respaldo no entiende`,
  'role.membershipMissing': (p: PhraseParams) =>
    `no se concede la pertenencia de ${p['member']} a ${p['role']}: el rol ${p['missing']} no existe en el servidor y no se va a crear`,
  'role.membershipBothMissing': (p: PhraseParams) =>
    `no se concede la pertenencia de ${p['member']} a ${p['role']}: los roles ${p['role']} y ${p['member']} no existen en el servidor y no se van a crear`,
  'role.membershipExisting': (p: PhraseParams) =>
    `no se concede la pertenencia del rol existente ${p['member']} al rol nuevo ${p['role']}: los roles existentes no se cambian`,
  'note.roleCreated': (p: PhraseParams) => `${p['item']}: creado el rol ${p['role']} (${p['summary']})`,

  // Propiedades de una base PostgreSQL que la restauración no puede volver a poner
  'prop.owner': (p: PhraseParams) => `propiedad de la base no restaurada: propietario ${p['owner']} (el rol no existe)`,
  'prop.setting': (p: PhraseParams) => `propiedad de la base no restaurada: ajuste ${p['setting']}`,
  'prop.roleSetting': (p: PhraseParams) =>
    `propiedad de la base no restaurada: ajuste ${p['setting']} del rol ${p['role']} en ella (el rol no existe)`,
  'prop.privilege': (p: PhraseParams) => `propiedad de la base no restaurada: privilegio ${p['privilege']}`,
  'prop.grantee': (p: PhraseParams) =>
    `propiedad de la base no restaurada: ${p['privilege']} para ${p['grantee']} (el rol no existe)`,

  // Avisos del controlador de PostgreSQL
  'pg.terminated': (p: PhraseParams) =>
    `se cerraron ${p['count']} sesión(es) conectadas a "${p['db']}": ${p['sessions']}`,
  'pg.noSnapshotJobs': (p: PhraseParams) =>
    `no se puede exportar una instantánea (${p['error']}); pg_dump se ejecuta con un solo proceso`,
  'pg.noSnapshotCounts': (p: PhraseParams) =>
    `no se puede exportar una instantánea (${p['error']}); el número de filas es una estimación`,
  'pg.globalsNoPasswords': () =>
    'los datos globales se guardan sin las contraseñas de los roles (el usuario configurado no es superusuario)',
  'pg.leftoverInUse': (p: PhraseParams) =>
    `la base "${p['name']}" tiene ${p['sessions']} sesión(es) conectada(s): una restauración o un simulacro sigue en marcha con ella (desde otra carpeta de copias, otra configuración u otro equipo); se deja como está`,
  'pg.noLive': (p: PhraseParams) =>
    `la base "${p['live']}" no existe; hay copias de seguridad: ${p['safeties']}. Restaure una copia, o vuelva a renombrar a mano una copia de seguridad.`,

  // Avisos del controlador de SQL Server
  'mssql.multiUserFailed': (p: PhraseParams) =>
    `No se pudo volver a poner la base en MULTI_USER (${p['error']}). Ejecute: ${p['sql']}`,
  'mssql.settingsUnread': (p: PhraseParams) =>
    `No se pudieron leer los ajustes de ${p['live']} tras la restauración (${p['error']}); no se comprobaron el propietario, TRUSTWORTHY ni Service Broker.`,
  'mssql.settingsNotBack': (p: PhraseParams) =>
    `${p['live']} se restauró, pero no se pudo volver a poner: ${p['failed']}`,
  'mssql.cdcKept': (p: PhraseParams) =>
    `Se conservó la captura de datos de cambios (CDC) de ${p['live']} (RESTORE … KEEP_CDC), pero sus trabajos de ` +
    `captura y limpieza no están en una copia: en ${p['live']} ejecute EXEC sys.sp_cdc_add_job @job_type = N'capture'; ` +
    "y EXEC sys.sp_cdc_add_job @job_type = N'cleanup'; (hasta que corra el de captura, el log no se trunca).",
  'mssql.cdcWillKeep': (p: PhraseParams) =>
    `${p['db']}: se conserva la captura de datos de cambios (CDC) de ${p['live']} (RESTORE … KEEP_CDC), pero sus ` +
    `trabajos de captura y limpieza no están en una copia: tras la restauración, en ${p['live']} ejecute ` +
    "EXEC sys.sp_cdc_add_job @job_type = N'capture'; y EXEC sys.sp_cdc_add_job @job_type = N'cleanup'; " +
    '(hasta que corra el de captura, el log no se trunca).',
  'mssql.notOnline': (p: PhraseParams) =>
    `La base "${p['db']}" está ${p['state']}, no ONLINE` +
    (p['why'] === 'restoring'
      ? ' (hay una restauración en curso, o es un secundario de trasvase de registros o un espejo)'
      : p['why'] === 'damaged'
        ? ' (dañada, o faltan sus archivos)'
        : '') +
    ': no se puede tomar ni apartar con otro nombre, así que se rechazó ' +
    `${p['doing'] === 'rollback' ? 'la vuelta atrás por cambio de nombre' : 'la restauración en su sitio'}; no se cambió nada.`,
  'mssql.notOnlineHint': (p: PhraseParams) => {
    const beside = `restaure al lado con --to ${p['db']}_restored`;
    if (p['why'] === 'restoring')
      return (
        `Si una restauración suya quedó a medias, termínela (RESTORE DATABASE ${p['q']} WITH RECOVERY) o elimínela, ` +
        `y vuelva a ejecutar; un secundario de trasvase de registros o un espejo nunca se sustituye. O ${beside}.`
      );
    if (p['why'] === 'recovering')
      return `Espere a que SQL Server la recupere (ONLINE) y vuelva a ejecutar; o ${beside}.`;
    if (p['why'] === 'offline')
      return `Póngala en línea (ALTER DATABASE ${p['q']} SET ONLINE) y vuelva a ejecutar; o ${beside}.`;
    return (
      `Restaure al lado con --to ${p['db']}_restored, compruébela y sustituya a mano la dañada (conserve sus ` +
      `archivos: ALTER DATABASE ${p['q']} SET OFFLINE, o DROP DATABASE ${p['q']}; luego ALTER DATABASE ` +
      `${p['qRestored']} MODIFY NAME = ${p['q']}). Vea docs/sqlserver.md (What is refused up front).`
    );
  },
  'mssql.published': (p: PhraseParams) =>
    `La base "${p['db']}" en ${p['server']} está publicada para replicación: una publicación no se puede apartar ` +
    'con otro nombre y conservar, así que se rechazó ' +
    `${p['doing'] === 'rollback' ? 'la vuelta atrás por cambio de nombre' : 'la restauración en su sitio'}; no se cambió nada.`,
  'mssql.publishedHint': (p: PhraseParams) =>
    `Restaure al lado con --to ${p['db']}_restored y deje que el DBA la ponga en su sitio y vuelva a crear las ` +
    `publicaciones; o quite antes la replicación (EXEC sp_removedbreplication N'${p['literal']}'), vuelva a ` +
    'ejecutar, y después cree de nuevo las publicaciones y reinicialice las suscripciones.',
  'mssql.availabilityGroup': (p: PhraseParams) =>
    `La base "${p['db']}" en ${p['server']} está en un grupo de disponibilidad: no se puede poner en SINGLE_USER ni ` +
    `cambiar de nombre, así que ${p['doing'] === 'rollback' ? 'la vuelta atrás por cambio de nombre' : 'la restauración en su sitio'} no es posible.`,
  'mssql.availabilityGroupHint': () =>
    'Restaure al lado con --to NOMBRE, o quite antes la base del grupo de disponibilidad ' +
    '(ALTER AVAILABILITY GROUP … REMOVE DATABASE), restaure, y vuelva a añadirla.',
  'mssql.continuedAfterError': (p: PhraseParams) =>
    `${p['live']} se restauró WITH CONTINUE_AFTER_ERROR desde una copia de seguridad de una base dañada: ` +
    'el daño también se restauró. Ejecute DBCC CHECKDB sobre ella.',
  'mssql.countsDiffer': (p: PhraseParams) =>
    `Las filas de ${p['live']} no coinciden con las estimaciones del manifiesto` +
    `${p['written'] ? ' (la base se modificó durante la copia)' : ''}: ` +
    `${p['diffs']}${p['more'] !== '0' ? `; … ${p['more']} más` : ''}`,
  'mssql.tempNotDropped': (p: PhraseParams) =>
    `No se pudo borrar la base temporal ${p['temp']}: ${p['error']}. respaldo la quita en la próxima restauración, o bórrela usted.`,
  'mssql.stillSingleUser': (p: PhraseParams) =>
    `${p['live']} vuelve a estar en uso, pero sigue en ${p['access']} (${p['error']}). Ejecute: ${p['sql']}`,
  'mssql.tde': (p: PhraseParams) =>
    `${p['db']} está cifrada con TDE${p['certificate'] ? ` (certificado ${p['certificate']})` : ''}: ` +
    'esta copia solo se restaura en un servidor que tenga ese certificado con su clave privada. ' +
    'Guarde una copia del certificado (vea docs/sqlserver.md).',
  'mssql.noCompression': (p: PhraseParams) =>
    `SQL Server rechazó BACKUP WITH COMPRESSION; se copia ${p['db']} sin comprimir.`,
  'mssql.verifyRejectedKept': (p: PhraseParams) =>
    `Se guarda la copia de seguridad de ${p['db']} aunque RESTORE VERIFYONLY la rechazó: ${p['error']}`,
  'mssql.chainBroken': (p: PhraseParams) =>
    `la copia ${p['kind'] === 'log' ? 'de registro' : 'diferencial'} de ${p['db']} (${p['path']}) no continúa la cadena y no se guardó: ${p['problem']}. Se hace una copia completa en su lugar.`,
  'mssql.fileLeft': (p: PhraseParams) => `archivo de copia de SQL Server sin borrar: ${p['problem']}`,
  'mssql.olderServer': (p: PhraseParams) =>
    `El conjunto ${p['set']} guarda una copia de ${p['db']} hecha con ${p['backup']}; ${p['server']} tiene ` +
    `${p['target']}, una versión anterior, y SQL Server nunca restaura una copia en una versión anterior ` +
    '(error 3169). No se cambió nada.',
  'mssql.olderServerHint': (p: PhraseParams) =>
    `Restáurela en un servidor con ${p['backup']} o posterior (una entrada de base de datos para ese servidor), o ` +
    `actualice ${p['server']}. Para llevar los datos a una versión anterior, expórtelos (bacpac, scripts) en el servidor más nuevo.`,

  // Avisos de copias, envíos, retención y simulacros
  'status.leftoversHint': () => 'los quita la próxima copia o restauración',
  'status.partialLeftoverHint': (p: PhraseParams) =>
    'la carpeta parcial de una restauración de archivos que se mató guarda archivos restaurados, secretos (.env) ' +
    `también: la próxima copia o restauración la quita, o quítela usted (rm -r ${p['paths']}); luego ejecute la ` +
    'restauración de nuevo',
  'status.restoreCompleted': (p: PhraseParams) =>
    `completada ${p['at']} desde el conjunto ${p['set']}${p['to'] ? `, en ${p['to']}` : ''}`,
  'status.restoreCompletedThenInterrupted': (p: PhraseParams) =>
    `completada ${p['at']} desde el conjunto ${p['set']}${p['to'] ? `, en ${p['to']}` : ''}; la misma ` +
    `restauración se INTERRUMPIÓ después, ${p['stopped']}: lo que restauró tras esta base de datos no está completo`,
  'status.restoreRunning': (p: PhraseParams) =>
    `en curso desde ${p['started']}, conjunto ${p['set']} (pid ${p['pid']})`,
  'status.restoreKilled': (p: PhraseParams) =>
    `MATADA: empezó ${p['started']} desde el conjunto ${p['set']} (pid ${p['pid']}), sin final en el registro ` +
    `(SIGKILL, un corte de luz); ${targetEs(p)} puede guardar lo que dejó (respaldo status lista lo que ve de ` +
    'ello): la próxima copia o restauración lo termina o lo quita; luego restaure de nuevo',
  'status.restoreRefused': (p: PhraseParams) =>
    `rechazada ${p['at']} (conjunto ${p['set']}): ${p['error']}; no se cambió nada`,
  'status.restoreFailed': (p: PhraseParams) => `FALLÓ ${p['at']} desde el conjunto ${p['set']}: ${p['error']}`,
  'status.restoreFailedBefore': (p: PhraseParams) =>
    `no restaurada: la restauración del conjunto ${p['set']} falló ${p['at']} antes de llegar a ella` +
    `${p['error'] ? ` (${p['error']})` : ''}; ${targetEs(p)} no cambió`,
  'status.restoreInterrupted': (p: PhraseParams) =>
    `INTERRUMPIDA ${p['at']}${signalEs(p)} mientras se restauraba desde el conjunto ${p['set']}; ${targetEs(p)} ` +
    'quedó como estaba',
  'status.restoreInterruptedBefore': (p: PhraseParams) =>
    `no restaurada: la restauración del conjunto ${p['set']} se interrumpió ${p['at']}${signalEs(p)} antes de ` +
    `llegar a ella; ${targetEs(p)} no cambió`,
  'warn.lowSpace': (p: PhraseParams) =>
    `El disco de la carpeta de copias ${p['dir']} tiene ${p['free']} libres; se estima que esta copia necesita unos ` +
    `${p['needed']} mientras se escribe (${estimateEs(p)}). Puede que esta copia no quepa: libere espacio (respaldo ` +
    'prune --dry-run) o lleve backupDir a un disco mayor.',
  'warn.cleanupFailed': (p: PhraseParams) => `la limpieza falló: ${p['error']}`,
  'warn.notCopied': (p: PhraseParams) =>
    `la copia ${p['set']} NO se envió a ${p['dest']}: ${p['pid'] ? nestedEs(p) : p['error']}`,
  'warn.notCopiedOffsite': (p: PhraseParams) => `la copia ${p['set']} no se envió fuera del servidor: ${p['error']}`,
  'warn.chainNotCopied': (p: PhraseParams) =>
    `no se envió: la copia ${p['base']}, sobre la que se aplica, no se pudo enviar antes (${p['pid'] ? nestedEs(p) : p['error']}); sin ella la copia no se podría restaurar allí`,
  'warn.notRemoved': (p: PhraseParams) => `no se pudo borrar ${p['set']}: ${p['error']}`,
  'delete.dropsSafety': (p: PhraseParams) =>
    `La copia ${p['set']} conserva ${p['dbs']} en el servidor (la base sustituida por una restauración): borrar la copia ${p['count'] === '1' ? 'la BORRA' : 'las BORRA'} (DROP).`,
  'delete.strayFiles': (p: PhraseParams) =>
    `La carpeta de la copia ${p['set']} contiene además ${p['count']} archivo(s) que respaldo no escribió (${p['files']}${p['more'] && p['more'] !== '0' ? ` y ${p['more']} más` : ''}): borrar la copia ${p['count'] === '1' ? 'lo borra' : 'los borra'} también. ${p['count'] === '1' ? 'Muévalo' : 'Muévalos'} fuera antes para ${p['count'] === '1' ? 'conservarlo' : 'conservarlos'}.`,
  'delete.markedKeep': (p: PhraseParams) =>
    `La copia ${p['set']} está marcada para conservar: la limpieza nunca la borra.`,
  'delete.notCopied': (p: PhraseParams) =>
    `La copia ${p['set']} aún no se ha copiado a ${p['dests']}: borrarla aquí borra la única que hay.`,
  'delete.safetyCopy': (p: PhraseParams) =>
    `La copia ${p['set']} es una copia de seguridad: lo que sustituyó la restauración de la copia ${p['of']} (${p['at']}). Borrarla quita el camino de vuelta a ese estado.`,
  'delete.onlyBackup': (p: PhraseParams) =>
    `La copia ${p['set']} es la única de ${p['db']}: sin ella, ${p['db']} no tiene ninguna.`,
  'delete.newestBackup': (p: PhraseParams) =>
    `La copia ${p['set']} es la más reciente de ${p['db']} (la anterior es ${p['next']}).`,
  'delete.onlyThere': (p: PhraseParams) =>
    `La copia ${p['set']} es la única de ${p['db']} en ${p['dest']}: sin ella, ${p['db']} no tiene ninguna allí.`,
  'delete.newestThere': (p: PhraseParams) =>
    `La copia ${p['set']} es la más reciente de ${p['db']} en ${p['dest']} (la anterior allí es ${p['next']}).`,
  'delete.notHere': (p: PhraseParams) =>
    `La copia ${p['set']} no está en la carpeta de copias de este servidor: la de ${p['dest']} puede ser la última.`,
  'warn.claimTakenOver': (p: PhraseParams) =>
    `se toma la reserva ${p['claim']} de la copia ${p['set']} en ${p['dest']}, dejada por el envío interrumpido de otra copia del mismo nombre (desde ${p['host']}; nada escrito allí en ${p['age']}): se borraron allí sus ${p['files']} archivo(s) sin terminar${Number(p['uploads']) > 0 ? ` y se anularon sus ${p['uploads']} subida(s) multiparte pendiente(s)` : ''}`,
  'warn.claimTakenOverGone': (p: PhraseParams) =>
    `se toma la reserva ${p['claim']} de la copia ${p['set']} en ${p['dest']}, dejada por el envío interrumpido de otra copia del mismo nombre (desde ${p['host']}, este servidor; su proceso ya no existe): se borraron allí sus ${p['files']} archivo(s) sin terminar${Number(p['uploads']) > 0 ? ` y se anularon sus ${p['uploads']} subida(s) multiparte pendiente(s)` : ''}`,
  'warn.claimTakingOver': (p: PhraseParams) =>
    `se toma, como se pidió (--take-over), la reserva de la copia ${p['set']} en ${p['dest']} que tenía el envío de otra copia (${p['owner']}): se borran sus ${p['files']} archivo(s) a medias allí${Number(p['uploads']) > 0 ? ` y se anulan sus ${p['uploads']} subida(s) multiparte pendiente(s)` : ''}`,
  'warn.claimTakenOverAsked': (p: PhraseParams) =>
    `se tomó, como se pidió (--take-over), la reserva de la copia ${p['set']} en ${p['dest']} que tenía el envío de otra copia (${p['owner']}): se borraron sus ${p['files']} archivo(s) a medias allí${Number(p['uploads']) > 0 ? ` y se anularon sus ${p['uploads']} subida(s) multiparte pendiente(s)` : ''}`,
  'warn.notRemovedAt': (p: PhraseParams) => `no se pudo borrar ${p['set']} en ${p['dest']}: ${p['error']}`,
  'warn.damagedKept': (p: PhraseParams) =>
    `la copia ${p['set']} en ${p['dest']} está dañada: se conserva y la retención no la cuenta: ${p['problem']}`,
  'warn.passedOver': (p: PhraseParams) =>
    `se pasa por alto la copia ${p['set']} en ${p['dest']}, más reciente pero dañada: ${p['problem']}`,
  'warn.remoteFailed': (p: PhraseParams) => `copia ${p['set']} en ${p['dest']}: FALLÓ`,
  'note.remoteOk': (p: PhraseParams) => `copia ${p['set']} en ${p['dest']}: correcta`,
  'warn.drillScratch': (p: PhraseParams) =>
    `no se pudo borrar el destino temporal del simulacro ${p['target']} (${p['error']}); la próxima ejecución lo borra`,
  'warn.drillNotRun': (p: PhraseParams) => `el simulacro tras la copia ${p['set']} no se pudo ejecutar: ${p['error']}`,
  'warn.drillFailed': (p: PhraseParams) => `el simulacro de restauración de la copia ${p['set']} FALLÓ (drilled.json)`,
  'warn.stillLists': (p: PhraseParams) =>
    `la copia ${p['set']} aún incluye ${p['dbs']}, que ${p['count'] === '1' ? 'vuelve' : 'vuelven'} a estar en uso: ${p['error']}; la próxima copia o restauración lo reintenta`,
  'warn.rollbackNotFinished': (p: PhraseParams) =>
    `no se pudo terminar la vuelta atrás interrumpida que registra ${p['file']}: ${p['error']}`,
  'pg.leftoverNotDropped': (p: PhraseParams) =>
    `no se pudo borrar "${p['name']}", que dejó una restauración o simulacro interrumpido: ${p['error']}. Se queda (respaldo status la muestra); la próxima copia o restauración lo intenta de nuevo, o bórrela usted`,
  'warn.recoverFailed': (p: PhraseParams) =>
    `no se pudo revisar su servidor por si una restauración o un simulacro interrumpidos dejaron algo (la próxima ejecución vuelve a revisarlo; respaldo status muestra lo que encuentre): ${p['error']}`,

  // Archivos de una copia que se dejan fuera o no se guardan
  'file.notRegular': (p: PhraseParams) => `${p['path']}: no es un archivo normal, se omite`,
  'file.sqliteConfigured': (p: PhraseParams) =>
    `${p['path']}: archivo de base SQLite en una carpeta de aplicación, no se copia (se guarda mediante su entrada en databases)`,
  'file.sqliteCopied': (p: PhraseParams) =>
    `${p['path']}: base SQLite que no se pudo abrir para tomar una copia coherente (${p['error']}); se guarda byte a byte con su -wal/-journal, lo que puede ser incoherente si se estaba escribiendo`,
  'file.sqliteCheck': (p: PhraseParams) =>
    `${p['path']}: base SQLite cuya instantánea no pasa PRAGMA quick_check (${p['problem']}); se guarda tal como está, la base misma probablemente está dañada: compruébela con sqlite3 (PRAGMA integrity_check) y conserve las copias anteriores al daño`,
  'file.notFound': (p: PhraseParams) => `${p['path']}: no se encuentra`,
  'file.notFolder': (p: PhraseParams) => `${p['path']}: no es una carpeta`,
  'file.vanished': (p: PhraseParams) =>
    `${p['path']}: desapareció durante la copia (se borró después de listarlo), no se guarda`,
  'file.changed': (p: PhraseParams) =>
    `${p['path']}: cambió mientras se copiaba (leído ${p['attempts']} veces); la copia guardada puede ser incoherente`,
  'file.backupDir': (p: PhraseParams) =>
    `${p['path']}: la carpeta de copias (backupDir), dentro de una carpeta de aplicación: no se guarda (una copia nunca contiene las copias)`,
  'file.noSpace': (p: PhraseParams) => `${p['path']}: no queda espacio en el disco de la carpeta de copias`,
  'file.ownersKept': (p: PhraseParams) =>
    `${p['path']}: ${p['count']} archivo(s), enlace(s) o carpeta(s) restaurados son de root, no de sus dueños registrados: este sistema no permitió cederlos (${p['error']}: un contenedor cuyos ids de usuario no los incluyen, o un recurso compartido que convierte root en nobody); su contenido, modos y fechas se restauraron. Asigne sus dueños a mano (chown) al devolverlos a su sitio`,
  'file.error': (p: PhraseParams) => `${p['path']}: ${p['error']}`,

  // Lo que hizo la recuperación tras una caída
  'recover.finished': (p: PhraseParams): string =>
    `se terminó una restauración interrumpida: ${PHRASES_ES[p['of'] as PhraseId](p)}`,
  'recover.rollbackFinished': (p: PhraseParams) =>
    `${p['db']}: se terminó una vuelta atrás interrumpida ("${p['kept']}" vuelve a ser la base en uso)`,
  'recover.listed': (p: PhraseParams) => `${p['names']} incluida(s) en la copia pre_restore ${p['set']}`,
  'recover.stoppedOrphans': (p: PhraseParams) =>
    `se detuvieron ${p['count']} proceso(s) que dejó en marcha una ejecución interrumpida (pg_restore y sus procesos)`,
  'recover.stoppedDumpOrphans': (p: PhraseParams) =>
    `se detuvieron ${p['count']} proceso(s) que dejó en marcha una copia de seguridad interrumpida (pg_dump y sus procesos)`,
  'recover.removedScratch': (p: PhraseParams) => `borrado ${p['path']}, que dejó una ejecución interrumpida`,
  'recover.safetyOfKilledRun': (p: PhraseParams) =>
    `se borró la copia de seguridad previa ${p['set']}, tomada por una restauración interrumpida antes de sustituir nada (las bases están como las encontró)`,
  'recover.removedTemp': (p: PhraseParams) => `borrado ${p['path']}, que dejó una restauración interrumpida`,
  'recover.removedLeftover': (p: PhraseParams) => `borrado ${p['name']} (lo dejó una ejecución interrumpida)`,
  'recover.leftoverNotRemoved': (p: PhraseParams) =>
    `no se pudo borrar ${p['path']}, que dejó una ejecución interrumpida (${p['error']}): bórrelo a mano (\`lsattr\` muestra un archivo inmutable, \`ls -l\` uno de otro usuario); esta ejecución sigue`,
  'recover.droppedDrill': (p: PhraseParams) =>
    `borrada "${p['name']}" (la base temporal de un simulacro de restauración interrumpido)`,
  'recover.droppedDrillOn': (p: PhraseParams) =>
    `borrada "${p['name']}" en el servidor de simulacros ${p['server']} (la base temporal de un simulacro de restauración interrumpido)`,
  'recover.pgRenamedBack': (p: PhraseParams) =>
    `"${p['from']}" renombrada de nuevo a "${p['live']}" (una restauración se interrumpió durante el intercambio; la base está como antes de esa restauración)`,
  'recover.pgDropped': (p: PhraseParams) =>
    `borrada "${p['name']}" (la dejó una restauración interrumpida; no cambió "${p['live']}")`,
  'recover.pgDroppedOn': (p: PhraseParams) =>
    `borrada "${p['name']}" en el servidor de simulacros ${p['server']} (la dejó un simulacro de restauración interrumpido)`,
  'recover.sqlitePutBack': (p: PhraseParams) =>
    `devuelto a su sitio ${p['file']}, que apartó una restauración interrumpida antes del intercambio`,
  'recover.sqliteStaleJournal': (p: PhraseParams) =>
    `borrado un diario viejo que apartó una restauración interrumpida: ${p['file']}`,
  'recover.sqliteKept': (p: PhraseParams) =>
    `se conserva ${p['file']}: lo apartó una restauración interrumpida antes del intercambio, pero ${p['original']} vuelve a existir; revíselo a mano`,
  'recover.sqliteUnfinished': (p: PhraseParams) => `borrado un archivo de restauración sin terminar ${p['file']}`,
  'recover.mssqlRollbackFinished': (p: PhraseParams) =>
    `se terminó una vuelta atrás interrumpida: la copia de seguridad ${p['incoming']} se renombró a ${p['live']}` +
    `${p['replaced'] ? ` (la base que sustituye se conserva como ${p['replaced']})` : ''}`,
  'recover.mssqlNotRenamed': (p: PhraseParams) =>
    `${p['live']} vuelve a estar en MULTI_USER (una vuelta atrás interrumpida aún no la había renombrado)`,
  'recover.mssqlSafetyMultiUser': (p: PhraseParams) =>
    `la copia de seguridad ${p['safety']} vuelve a estar en MULTI_USER`,
  'recover.mssqlMultiUser': (p: PhraseParams) => `${p['live']} vuelve a estar en MULTI_USER`,
  'recover.mssqlSwapFinished': (p: PhraseParams) =>
    `se terminó un intercambio interrumpido: la base restaurada ${p['temp']} se renombró a ${p['live']} (la anterior se conserva como ${p['safety']})`,
  'recover.mssqlSwapUndone': (p: PhraseParams) =>
    `se deshizo un intercambio interrumpido: ${p['safety']} se renombró de nuevo a ${p['live']}`,
  'recover.mssqlDroppedTemp': (p: PhraseParams) => `borrada la base temporal sobrante ${p['temp']}`,
  'recover.mssqlRestoreFinished': (p: PhraseParams) =>
    `se terminó una restauración interrumpida: la base comprobada ${p['temp']} se renombró a ${p['live']}`,
  'recover.mssqlRestoreUndone': (p: PhraseParams) =>
    `se deshizo una restauración interrumpida: borrada la base temporal ${p['temp']}` +
    `${p['untouched'] ? ` (${p['untouched']} no se tocó)` : ''}`,
  'recover.mssqlRemovedFile': (p: PhraseParams) => `borrado el archivo de restauración sobrante ${p['file']}`,
  'recover.mssqlRemovedJournal': (p: PhraseParams) => `borrado el diario de restauración ${p['file']}`,

  // Pasos de una restauración (la instantánea es de SQLite, el resto de PostgreSQL)
  'step.snapshot': (p: PhraseParams) => `haciendo una instantánea (${p['total']} páginas)`,
  'step.snapshotStoring': () => 'comprobando la instantánea (integrity_check, filas) y guardándola',
  'step.decompressing': () => 'descomprimiendo el volcado',
  'step.readingToc': () => 'leyendo el índice del volcado',
  'step.creating': (p: PhraseParams) => `creando "${p['db']}"`,
  'step.creatingRoles': () => 'creando los roles que faltan',
  'step.pgRestore': (p: PhraseParams) => `pg_restore en "${p['db']}"`,
  'step.pgRestoreJobs': (p: PhraseParams) => `pg_restore --jobs=${p['jobs']} en "${p['db']}"`,
  'step.schema': (p: PhraseParams) => `restaurando el esquema en "${p['db']}"`,
  'step.loading': (p: PhraseParams) =>
    `cargando los datos (${p['tables'] === '1' ? '1 tabla grande' : `${p['tables']} tablas grandes`}, ${p['jobs']} sesiones cada una)`,
  'step.indexes': (p: PhraseParams) => `pg_restore --jobs=${p['jobs']}: índices y restricciones`,
  'step.restoring': () => 'restaurando',
  'step.restored': () => 'restaurada',
  'step.counting': () => 'comprobando el número de filas',
  'at.noneHere': (p: PhraseParams) => `Ninguna copia de ${p['dbs']} termina a las ${p['at']} o antes${atDetails(p)}.`,
  'at.noneThere': (p: PhraseParams) =>
    `El destino "${p['dest']}" no tiene ninguna copia de ${p['dbs']} que termine a las ${p['at']} o antes${atDetails(p)}.`,
  'at.holdsNo': (p: PhraseParams) =>
    `no tiene ${[p['dbs'], p['files'] ? 'los archivos' : ''].filter(Boolean).join(', ')}`,
  'at.lacksOf': (p: PhraseParams) =>
    p['of'] === '1'
      ? `no ${p['files'] ? 'los' : 'la'} tiene`
      : p['n'] === p['of']
        ? 'no tiene ninguna'
        : `le ${p['n'] === '1' ? 'falta' : 'faltan'} ${p['n']} de ellas`,
  'chain.missing': (p: PhraseParams) => `falta la copia ${p['set']}${neededEs(p)} (podada o borrada)`,
  'chain.manifestDamaged': (p: PhraseParams) =>
    `el manifiesto de la copia ${p['set']}${neededEs(p)} está dañado (${p['what']})`,
  'chain.loop': (p: PhraseParams) => `la copia ${p['set']} depende de sí misma (manifiestos dañados)`,
  'chain.lacksDb': (p: PhraseParams) => `la copia ${p['set']}${neededEs(p)} no tiene ${p['db']}`,
  'chain.notOlder': (p: PhraseParams) =>
    `la copia ${p['set']} no es anterior a ${p['child']}, que se aplica sobre ella (manifiestos dañados)`,
  'chain.entry': (p: PhraseParams): string =>
    `${p['db']} en la copia ${p['set']}${neededEs(p)}: ${PHRASES_ES[p['of'] as PhraseId](p)}`,
  'chain.failedInSet': (p: PhraseParams) => `falló en esa copia (${p['error']})`,
  'chain.noCopy': () => 'esa copia no guardó nada de ella',
  'chain.failedVerification': (p: PhraseParams) => `la copia no pasó la verificación del ${p['at']}`,
  'chain.fileMissing': (p: PhraseParams) => `falta el archivo guardado ${p['file']}`,
  'chain.fileSize': (p: PhraseParams) => `el archivo guardado ${p['file']} no tiene el tamaño que dice el manifiesto`,
  'chain.nextFileMissing': (p: PhraseParams) =>
    `falta el archivo guardado ${p['file']} (solo lo lee una copia hecha sobre esta; esta se restaura sin él)`,
  'chain.nextFileSize': (p: PhraseParams) =>
    `el archivo guardado ${p['file']} no tiene el tamaño que dice el manifiesto (solo lo lee una copia hecha ` +
    'sobre esta; esta se restaura sin él)',
  'chain.nextFileAltered': (p: PhraseParams) =>
    `el archivo guardado ${p['file']} no coincide con el manifiesto (solo lo lee una copia hecha sobre esta; esta ` +
    'se restaura sin él)',
  'chain.nextFileUnreadable': (p: PhraseParams) =>
    `el archivo guardado ${p['file']} coincide con el manifiesto pero no se puede leer (${p['error']}) (solo lo ` +
    'lee una copia hecha sobre esta; esta se restaura sin él)',
  'chain.encryptedBase': () =>
    'la copia está cifrada (un delta se calcula sobre el contenido de su base, que ahí está cifrado; la copia se ' +
    'restaura con su clave)',
  'verify.nextBackupOnly': (p: PhraseParams) =>
    `${p['file']}: ${p['problem']}; solo lo lee una copia diferencial o incremental de ${p['db']} hecha sobre esta ` +
    '(la próxima incremental será una diferencial sobre la completa): esta copia se restaura sin él',
  'verify.badFiles': (p: PhraseParams) => verifyProblemsEs(p['problems']),
  'verify.notDecompressing': (p: PhraseParams) =>
    `no se descomprime (${decoderErrorEs(p['error'])}): los datos que guarda están dañados`,
  'error.decodedDamaged': (p: PhraseParams) =>
    `${labelEs(p['label'])} se descifró y autenticó, pero sus datos descifrados no se descomprimen ` +
    `(${decoderErrorEs(p['error'])}): los datos que guarda están dañados (cifrados de nuevo después de la copia, o ` +
    'reescritos).',
  'error.storedNotDecompressing': (p: PhraseParams) =>
    `El archivo guardado ${p['file']} de ${p['name']} no se puede descomprimir (${decoderErrorEs(p['error'])}): ` +
    'está dañado.',
  'error.storedNotDecompressingHint': () =>
    'No restaure desde esta copia. Use otra copia (`respaldo list`, o `respaldo list --from <destino>` para las ' +
    'de un destino) y revise el disco o el destino que la guarda.',
  'drill.notDecompressing': (p: PhraseParams) =>
    `Copia ${p['set']}: un archivo guardado no se descomprime (${decoderErrorEs(p['error'])}): los datos que ` +
    'guarda están dañados.',
  'verify.notDecompressingHint': () =>
    'No restaure desde esta copia: un archivo guardado cuyos hashes coinciden no se descomprime (reescrito ' +
    'después de la copia, o dañado antes de calcular sus hashes). Use otra copia (`respaldo list`), o su copia en ' +
    'un destino (`respaldo verify ID --from NOMBRE --read-data`).',
  'chain.fileMissingAt': (p: PhraseParams) => `falta el archivo guardado ${p['file']} en ${p['dest']}`,
  'chain.fileSizeAt': (p: PhraseParams) => `el archivo guardado ${p['file']} tiene otro tamaño en ${p['dest']}`,
  'chain.raw': (p: PhraseParams) => p['text'] ?? '',
  'at.startedThen': (p: PhraseParams) =>
    `Restaurar a ${p['at']}: copia ${p['set']}, que empezó a esa hora (una hora escrita hasta el segundo del id de una copia, o hasta el minuto que muestra \`list\`, nombra esa copia) y terminó a ${p['ended']}.`,
  'at.before': (p: PhraseParams) =>
    `La copia más reciente que termina antes es ${p['before']}; para los datos de antes de la copia ${p['set']}: ${p['command']}`,
  'at.noneBefore': (p: PhraseParams) => `Ninguna copia que termine antes de la copia ${p['set']} restaura lo pedido.`,
  'prune.chainBase': (p: PhraseParams) =>
    `la completa más reciente de ${p['db']}, base de la cadena de ${p['count'] === '1' ? 'la copia posterior' : 'las copias posteriores'} ${p['sets']}${p['more'] !== '0' ? ` y ${p['more']} más` : ''}`,
  'at.noneHereHint': () =>
    'Elija una hora posterior o menos bases de datos, o vea las copias (Ver copias; respaldo list).',
  'at.noneThereHint': (p: PhraseParams) =>
    `Elija una hora posterior o menos bases de datos, o vea las copias de allí (respaldo list --from ${p['dest']}).`,
  'step.writingCopy': () => 'escribiendo la copia',
  'step.checkingCopy': () => 'comprobando la copia (integrity_check, número de filas)',
  'step.swapping': (p: PhraseParams) => `intercambiando "${p['live']}" y "${p['staging']}"`,
  'step.swappingBack': (p: PhraseParams) => `devolviendo "${p['safety']}" a su sitio como "${p['live']}"`,
  'step.renamingBack': (p: PhraseParams) => `renombrando "${p['safety']}" a "${p['live']}"`,
  'fallback.noChains': (p: PhraseParams) => `${p['engine']} aún no hace copias ${typeEs(p['type'])}`,
  'fallback.encrypted': () =>
    'las copias locales cifradas son siempre completas (un delta se calcula sobre el contenido de la base, que un ' +
    'servidor que cifra no puede leer, a propósito); "local": false en "encryption" deja las copias locales sin ' +
    'cifrar y encadenadas, y cifra solo las que se envían fuera',
  'fallback.noFull': (p: PhraseParams) => `aún no hay ninguna copia completa de ${p['db']}`,
  'fallback.ahead': (p: PhraseParams) =>
    `la copia más reciente de ${p['db']} (${p['set']}) tiene fecha ${p['at']}, posterior al reloj de esta máquina: una copia aplicada sobre ella nunca podría restaurarse`,
  'fallback.badBase': (p: PhraseParams) =>
    `${p['type'] === 'differential' ? 'la completa más reciente' : 'la copia más reciente'} de ${p['db']} (${p['set']}) no puede ser la base: ${nestedEs(p)}`,
  'fallback.mssqlNoChain': (p: PhraseParams) =>
    `las copias ${typeEs(p['type'])} de SQL Server de ${p['db']} necesitan "chain": true en su entrada de base de ` +
    'datos (ver docs/sqlserver.md); se guardó una completa COPY_ONLY',
  'fallback.baseFormat': (p: PhraseParams) =>
    `la copia base ${p['set']} guarda ${p['db']} como ${p['format']}, no como ${p['as'] === 'pages' ? 'páginas' : 'un volcado en carpeta'}`,
  'fallback.baseUnreadable': (p: PhraseParams) => `no se pudo leer la copia base ${p['set']} (${p['error']})`,
  'fallback.baseGone': (p: PhraseParams) => `la copia base ${p['set']} ya no está (${p['error']})`,
  'fallback.pageSize': (p: PhraseParams) =>
    `el tamaño de página cambió desde la copia ${p['set']} (${p['from']} → ${p['to']} bytes, tras un VACUUM)`,
  'fallback.mssqlSimple': (p: PhraseParams) =>
    `${p['db']} usa el modelo de recuperación SIMPLE, que no guarda registro para BACKUP LOG; se guardó una completa. ` +
    'Ponga la recuperación FULL (ALTER DATABASE … SET RECOVERY FULL) o programe diferenciales en vez de incrementales',
  'fallback.mssqlNoBase': (p: PhraseParams) =>
    `no hay base para una copia ${p['type'] === 'differential' ? 'diferencial' : 'incremental'} de ${p['db']}`,
  'fallback.mssqlNoHeader': (p: PhraseParams) =>
    `la copia base ${p['set']} no tiene cabecera de copia de ${p['db']} (se hizo antes de "chain": true); se guardó una completa que empieza una cadena nueva`,
  'fallback.mssqlCopyOnly': (p: PhraseParams) =>
    `la base de ${p['db']} en la copia ${p['set']} es una completa COPY_ONLY (se hizo antes de "chain": true); se guardó una completa que empieza una cadena nueva`,
  'fallback.mssqlMsdb': (p: PhraseParams) =>
    `no se puede leer el historial de copias de msdb (${p['error']}): sin él no se pueden comprobar ni la cadena ni ` +
    'los LSN exactos; se guardó una completa. Conceda al inicio de sesión SELECT sobre msdb.dbo.backupset y ' +
    'msdb.dbo.backupmediafamily',
  'fallback.mssqlFork': (p: PhraseParams) =>
    `${p['db']} está en otra bifurcación de recuperación que la copia ${p['set']} (se restauró o recuperó después); se guardó una completa que empieza una cadena nueva`,
  'fallback.mssqlNoLogChain': (p: PhraseParams) =>
    `${p['db']} no tiene cadena de registro que continuar (sys.database_recovery_status.last_log_backup_lsn es NULL: ` +
    'estuvo en recuperación SIMPLE desde su última completa, o no tuvo ninguna completa en este servidor), así que ' +
    'BACKUP LOG fallaría (error 4214); se guardó una completa que empieza una cadena nueva',
  'fallback.mssqlBaseNotFull': (p: PhraseParams) =>
    `la copia base ${p['set']} de ${p['db']} no es una completa; se guardó una completa que empieza una cadena nueva`,
  'fallback.mssqlOutsideFull': (p: PhraseParams) =>
    `la base diferencial de ${p['db']} en el servidor es una completa hecha fuera de respaldo${p['at'] ? ` el ${p['at']}` : ''}${p['device'] ? ` en ${p['device']}` : ''} ` +
    `(LSN de checkpoint ${p['lsn']}, no ${p['baseLsn']} de la copia ${p['set']}); se guardó una completa que empieza una cadena nueva`,
  'fallback.mssqlLogGap': (p: PhraseParams) =>
    `se hizo una copia de registro de ${p['db']} fuera de respaldo${p['device'] ? ` (${p['device']})` : ''}, hasta el LSN ${p['lsn']}, después de la copia ` +
    `${p['set']} (LSN ${p['baseLsn']}): la cadena de registro tiene un hueco; se guardó una completa que empieza una cadena nueva`,
  'fallback.mssqlBroken': (p: PhraseParams) => `${p['problem']}; se guardó una completa que empieza una cadena nueva`,
  'chain.storedFull': (p: PhraseParams) =>
    `${p['db']}: guardada como completa, no como ${p['type'] === 'differential' ? 'diferencial' : 'incremental'}: ${nestedEs(p)}`,
  'chain.storedOnFull': (p: PhraseParams) =>
    `${p['db']}: guardada como diferencial sobre la completa ${p['set']}, no como incremental: ${nestedEs(p)}`,
  'when.timezoneHint': () =>
    'Use una zona horaria IANA como Europe/Madrid o America/Mexico_City, o déjela vacía para usar la de la máquina.',
  // Lo que quedaba en inglés dentro de los textos en español (ver el bloque al final de src/core/phrases.ts)
  'error.secretUnreadable': (p: PhraseParams) =>
    `No se puede leer ${secretWhatEs(p)} ${p['file']} (${p['kind'] ? `es ${kindEs(p['kind'])}, no un archivo normal` : p['code']}).`,
  'error.secretEmpty': (p: PhraseParams) => `${secretWhatEs(p)} ${p['file']} está vacío.`.replace(/^e/, 'E'),
  'error.secretNotRegularHint': (p: PhraseParams) =>
    `Indique ahí el propio archivo de la clave o de la frase de paso (${kindEs(p['kind'])} no se lee: una FIFO esperaría para siempre); no se cambió nada.`,
  'error.passphraseConfigHint': () =>
    'Escriba en ese archivo (modo 0600) la frase de paso de las copias, o use "encryption.recipients".',
  'error.passphraseConfigReadHint': () => 'Escriba en él la frase de paso de las copias.',
  'error.identityFileHint': () =>
    'Haga que "encryption.identityFile" nombre el archivo que escribió `respaldo key generate` (o age-keygen); guarde una copia fuera del servidor.',
  'error.identityUnopenable': (p: PhraseParams) =>
    `No se pudo abrir el archivo de identidad ${p['path']} (${p['detail']}).`,
  'error.identityNoKey': (p: PhraseParams) =>
    `El archivo de identidad ${p['path']} no contiene ninguna identidad age (AGE-SECRET-KEY-1…).`,
  'keep.notAt': (p: PhraseParams) =>
    `La marca de conservar se ${p['keep'] === 'true' ? 'puso' : 'quitó'} aquí, pero no en ${keepFailedEs(p)}.`,
  'keep.notAtHints': (p: PhraseParams): string =>
    (JSON.parse(p['failed'] ?? '[]') as { dest: string; why: string }[])
      .map((f): string =>
        PHRASES_ES['keep.notAtHint']({ keep: p['keep'] ?? '', set: p['set'] ?? '', dest: f.dest, why: f.why }),
      )
      .join(' '),
  'keep.notAtHint': (p: PhraseParams) =>
    p['why'] === 'gone'
      ? p['keep'] === 'true'
        ? `La copia ${p['set']} ya no está en ${p['dest']}: \`respaldo copy ${p['set']} --to ${p['dest']}\` la vuelve a enviar allí, con su marca de conservar.`
        : `La copia ${p['set']} ya no está en ${p['dest']}, así que allí no queda ninguna marca de conservar que quitar.`
      : p['why'] === 'folder'
        ? `respaldo solo escribe archivos allí: borre esa carpeta en ${p['dest']} y ejecute respaldo keep ${p['set']}${p['keep'] === 'true' ? '' : ' --unset'} --from ${p['dest']}.`
        : `Ejecute respaldo keep ${p['set']}${p['keep'] === 'true' ? '' : ' --unset'} --from ${p['dest']} cuando se pueda llegar a él.`,
  'restore.serverEnded': (p: PhraseParams) => `El servidor de la base cerró la sesión: ${p['detail']}`,
  'restore.serverDiskFullHint': (p: PhraseParams) =>
    `El servidor de la base se quedó sin espacio en disco: su carpeta de datos ${p['path']} tiene ${p['free']} libres, y ` +
    'PostgreSQL cerró todas las sesiones y se reinició. La base en uso está como estaba; la copia restaurada a medias ' +
    'la borra la próxima restauración, copia o simulacro. Libere espacio en ese disco y restaure de nuevo.',
  'restore.replacedUnlisted': (p: PhraseParams) =>
    `Las bases reemplazadas se conservan en sus servidores (${keptEs(p)}), pero no se pudieron anotar en una copia pre_restore: ${p['pid'] ? nestedEs(p) : p['error']}.`,
  'restore.replacedUnlistedHint': () =>
    'No se pierde nada: esas bases son la vuelta atrás. Arregle la carpeta de copias (espacio, permisos); después, si hace falta, devuélvales su nombre a mano, o bórrelas cuando esté seguro.',
  'config.notFound': (p: PhraseParams) => `${p['file']}: no existe el archivo`,
  'config.notFoundHint': () =>
    'Indique --config RUTA, defina RESPALDO_CONFIG o ejecute desde la carpeta que contiene backup_config.json (`npm run demo` crea una instalación de prueba).',
  'config.notUtf8': (p: PhraseParams) =>
    p['utf16']
      ? `${p['file']}: es texto UTF-16, no UTF-8 (respaldo no leyó nada de él)`
      : `${p['file']}: la línea ${p['line']} no es texto UTF-8 (¿un acento guardado como Latin-1 o Windows-1252?); respaldo no leyó nada de él`,
  'config.notUtf8Hint': () =>
    'Guarde el archivo como UTF-8 (en el Bloc de notas: Guardar como, Codificación UTF-8; o iconv -f latin1 -t utf-8) y ejecute la orden de nuevo; no se cambió nada.',
  'config.denied': (p: PhraseParams) => `${p['file']}: permiso denegado`,
  'config.deniedHint': () => 'Ejecute como un usuario que pueda leer el archivo de configuración.',
  'config.isFolder': (p: PhraseParams) => `${p['file']}: es una carpeta, no un archivo de configuración`,
  'config.isFolderHint': (p: PhraseParams) =>
    `Indique el propio archivo (--config ${p['inside']}, por ejemplo) o defina RESPALDO_CONFIG con él.`,
  'config.backupDirFile': (p: PhraseParams) => `${p['dir']} es un archivo, no una carpeta`,
  'config.backupDirFileHint': () =>
    'Haga que "backupDir" sea una carpeta (se crea si falta) y vuelva a ejecutar la orden; no se cambió nada.',
  'pgconn.rejected': (p: PhraseParams) => `PostgreSQL en ${p['at']} rechazó al usuario "${p['user']}": ${p['detail']}`,
  'pgconn.rejectedHint': () =>
    'El pg_hba.conf del servidor no admite este usuario, equipo o base; pida al administrador de la base que lo permita.',
  'pgconn.noSlots': (p: PhraseParams) => `PostgreSQL en ${p['at']} no tiene conexiones libres.`,
  'pgconn.noSlotsHint': () => 'Cierre conexiones inactivas o suba max_connections, y vuelva a intentarlo.',
  'pgconn.denied': (p: PhraseParams) =>
    `PostgreSQL en ${p['at']}: permiso denegado (${doingEs(p['doing'])}): ${p['detail']}`,
  'pgconn.deniedHint': () =>
    'Conéctese como el dueño de la base o con un rol que tenga los privilegios necesarios (CREATEDB para restaurar).',
  'pgconn.signalBackendHint': (p: PhraseParams) =>
    `El usuario configurado no puede terminar las sesiones de otros roles: detenga antes la aplicación, o dele ese derecho (GRANT pg_signal_backend TO ${p['user']}). No se reemplazó nada.`,
  'pgconn.ended': (p: PhraseParams) =>
    `PostgreSQL en ${p['at']} terminó la sesión (${doingEs(p['doing'])}): ${p['detail']}`,
  'pgconn.endedHint': () => 'El servidor se detuvo o se terminó la sesión; revise el servidor y vuelva a intentarlo.',
  'pgconn.sqlstate': (p: PhraseParams) =>
    `PostgreSQL en ${p['at']}: ${p['detail']} (${doingEs(p['doing'])}, SQLSTATE ${p['code']})`,
  // Lo que quedaba en inglés (2): herramientas de PostgreSQL y sesiones terminadas, la configuración ilegible, sin
  // terminal para la frase de paso, una copia que falta donde va su marca, copias rechazadas, por qué no se poda
  'pgend.hint': (p: PhraseParams) =>
    `${PGEND_ES[p['why'] ?? ''] ?? ''} No se guardó nada a medias de esta base (una copia no publica el volcado, una restauración no sustituye nada); vuelva a ejecutarlo cuando eso haya pasado.`,
  'pgend.dumpDiskFullHint': () =>
    'Está lleno el disco en el que pg_dump escribe el volcado: el de la carpeta de copias, donde se prepara antes de ' +
    'guardarlo (`respaldo prune --dry-run` muestra lo que la retención borraría; `respaldo delete <id>` borra una ' +
    'copia). No se publicó nada de esta base; vuelva a ejecutarlo cuando haya espacio.',
  'pgtool.passwordHint': (p: PhraseParams) =>
    `Revise el usuario y la contraseña de ${p['at']} en la configuración (la contraseña viene de la URL o de "password", o de la variable \${…} que nombran, leída del entorno o de .env).`,
  'pgtool.unreachableHint': (p: PhraseParams) =>
    `¿Está en marcha el servidor PostgreSQL de ${p['at']} y se puede llegar a él desde aquí? Revise host y port en la configuración.`,
  'pgtool.missingHint': (p: PhraseParams) =>
    `Instale el cliente de PostgreSQL (${p['tool']}), por ejemplo con \`apt-get install postgresql-client\` o \`dnf install postgresql\`, en una versión al menos tan nueva como la del servidor; o haga que "binPath" en la configuración (o PG_BIN_PATH) apunte a la carpeta que contiene ${p['tool']}.`,
  'pgtool.lockTimeoutHint': () =>
    'Otra sesión retuvo un bloqueo de tabla más tiempo que "lockWaitTimeout" (una migración, VACUUM FULL, ALTER TABLE…); no se publicó nada de esta base. Vuelva a ejecutar la copia más tarde, o suba lockWaitTimeout en la configuración.',
  'pgtool.roleMissingHint': () =>
    'La copia hace referencia a un rol que no existe en este servidor. Si la copia guardó sus roles ("globals": true), restaure de nuevo con --create-roles; si no, créelo antes con CREATE ROLE.',
  'pgtool.damagedDataHint': (p: PhraseParams) =>
    `El servidor encontró datos dañados en la base "${p['database']}" (el archivo de una tabla o un índice en su disco), así que no se guardó nada de ella. No espere a la próxima copia: restaure la copia más reciente que la tenga sin error (respaldo list, respaldo restore latest --dry-run), primero al lado (--to NUEVONOMBRE) para comparar, o solo las tablas dañadas (--table … --to NUEVONOMBRE); revise el disco del servidor y su registro.`,
  'pgtool.locksHint': () =>
    'pg_dump bloquea todas las tablas y secuencias de la base en una sola transacción, y la tabla de bloqueos del servidor (unas max_locks_per_transaction × max_connections entradas) no da para todas: suba max_locks_per_transaction en postgresql.conf para que cubra las tablas y secuencias de la base (256 con max_connections 100 da para unas 25 000), reinicie el servidor y repita la copia.',
  'pgtool.tablespaceMissingHint': (p: PhraseParams) =>
    `La copia pone tablas en el tablespace "${p['tablespace']}", que este servidor no tiene (un servidor nuevo: una restauración no crea tablespaces). Créelo antes, como superusuario, sobre una carpeta vacía cuyo dueño sea el usuario del servidor: CREATE TABLESPACE ${p['sql']} LOCATION '/ruta/a/una/carpeta/vacia'; y restaure de nuevo.`,
  'pgtool.extensionMissingHint': (p: PhraseParams) =>
    `La copia usa la extensión "${p['extension']}", que no está instalada en este servidor. Instale su paquete en el servidor de la base (pgcrypto, citext, hstore y las demás extensiones de contrib vienen con el paquete postgresql-contrib del servidor; otras tienen el suyo, como postgresql-<versión>-postgis-3) y restaure de nuevo.`,
  'pgtool.privilegeHint': () =>
    'Al usuario configurado le falta un privilegio necesario para esto; conéctese como el dueño de la base o con un rol que tenga los permisos necesarios.',
  'pgtool.hbaHint': (p: PhraseParams) =>
    `El servidor rechaza a este cliente en pg_hba.conf; pida al administrador de la base que permita a ${p['user'] || 'este usuario'} conectarse desde este equipo.`,
  'config.unreadable': (p: PhraseParams) =>
    `${p['file']}: no se puede leer: ${withoutPath(p['detail'] ?? '', p['file'])}`,
  'config.unreadableHint': () =>
    'Revise el archivo y el disco en que está (puede pasar una copia de la configuración con --config); no se cambió nada.',
  'config.variableEmpty': (p: PhraseParams) => `\${${p['variable']}} tiene un valor vacío`,
  'config.variableEmptyHint': (p: PhraseParams) =>
    `Dé un valor a ${p['variable']} en el entorno o en ${p['env']} (una línea ${p['variable']}= vacía allí, o un ` +
    'export sin valor, la deja vacía) y ejecute la orden de nuevo; no se cambió nada.',
  'config.writtenTwice': (p: PhraseParams) =>
    `está escrito dos veces (líneas ${p['first']} y ${p['line']}); JSON se quedaría solo con la segunda, sin avisar`,
  'config.writtenTwiceHint': () =>
    'Deje solo uno (junte sus valores si quiere los dos) y ejecute la orden de nuevo; no se cambió nada.',
  'config.linkLoop': (p: PhraseParams) =>
    `${p['file']}: es un enlace simbólico que vuelve a sí mismo (ELOOP), no un archivo de configuración`,
  'config.linkLoopHint': () =>
    'Haga que el enlace apunte al archivo de configuración (ls -l muestra adónde lleva), o pase el archivo mismo con --config; no se cambió nada.',
  'error.noTerminal': (p: PhraseParams) =>
    `No hay terminal en el que pedir la frase de paso ${p['identity'] ? `del archivo de identidad ${p['identity']} (está protegido por ella)` : `de la copia ${p['set']} (está cifrada con ella)`}.`,
  'error.noTerminalHint': (p: PhraseParams) =>
    `Ejecute la orden en un terminal para que se le pida, o indique con ${p['env']}=ARCHIVO un archivo (modo 0600) que la contenga.`,
  'keep.noSetThere': (p: PhraseParams) =>
    `No hay ninguna copia ${p['set']} de este servidor (origen "${p['source']}") en el destino "${p['dest']}".`,
  'keep.noSetThereHint': (p: PhraseParams) => `Vea las copias que hay allí con respaldo list --from ${p['dest']}.`,
  'copy.claimedThere': (p: PhraseParams) =>
    `destino "${p['dest']}": otra copia ${p['set']} del origen "${p['source']}", no esta, se está enviando allí o su envío quedó a medias (${p['claim']}): no se envió nada, para no mezclar los archivos de las dos copias.`,
  'copy.claimedThereHint': (p: PhraseParams) =>
    `Otra configuración (u otro servidor) envía allí con el mismo origen "${p['source']}". Dé a cada configuración su propio "source" (en el nivel superior o en el destino) y vuelva a enviar la copia.${p['claimed'] ? ` Cuando lleve ${p['quiet']} sin que se escriba nada allí (reservada el ${p['claimed']}), un envío la tomará.` : ''} Si ningún envío de esa otra copia va a terminar (su servidor o la copia ya no existen), tome su reserva: \`respaldo copy ${p['set']} --to ${p['dest']} --take-over\` (se borran sus archivos a medias allí y se anulan sus subidas multiparte pendientes); o borre antes a mano allí ${p['where']}/${p['set']} y ${p['claim']}.`,
  'copy.claimHolderRunsHint': (p: PhraseParams) =>
    `Su envío sigue en marcha en este servidor (pid ${p['pid']} en ${p['host']}): no se toma, ni con --take-over. Espere a que termine y vuelva a enviar la copia; ${p['claim']} se irá con él.`,
  'copy.anotherSetThere': (p: PhraseParams) =>
    `el destino "${p['dest']}" ya tiene una copia ${p['set']} del origen "${p['source']}" que no es esta (empezó el ${p['thereAt']}, en ${p['thereHost']}; esta, el ${p['at']}, en ${p['host']}): no se envió nada, para no sobrescribirla.`,
  'copy.anotherSetThereHint': (p: PhraseParams) =>
    `Otra configuración (u otro servidor) envía allí con el mismo origen "${p['source']}". Dé a cada configuración su propio "source" (en el nivel superior o en el destino), como "${p['suggested']}", y vuelva a enviar la copia.`,
  'prune.refused': (p: PhraseParams) => `La retención no borró nada: ${nestedEs(p)}.`,
  'prune.aheadOfClock': (p: PhraseParams) =>
    `la copia ${p['set']} tiene fecha ${p['at']}, por delante del reloj de esta máquina (un reloj que estaba mal aquí o donde se hizo)`,
  'prune.aheadOfClockHint': () =>
    'Revise el reloj de esta máquina (timedatectl); si lo que está mal es la fecha de la copia, bórrela o sáquela de la carpeta de copias, y vuelva a aplicar la retención (respaldo prune).',
  'prune.lastFailed': (p: PhraseParams) =>
    `la última copia de seguridad (${p['set']}) falló y no escribió ninguna copia`,
  'prune.newestNotCompleted': (p: PhraseParams) =>
    `la copia más reciente, ${p['set']}, ${p['status'] === 'partial' ? 'está incompleta' : p['status'] === 'failed' ? 'falló' : `está ${p['status']}`}${p['failed'] ? ` (fallaron ${p['failed']})` : ''}`,
  'prune.refusedHint': (p: PhraseParams) =>
    'La retención solo se aplica después de una copia correcta. Corrija el fallo, ejecute `respaldo create` y vuelva a aplicarla (respaldo prune).' +
    (p['oldest']
      ? ` Si falla porque el disco de la carpeta de copias está lleno, libere espacio a mano: la retención borraría ${p['count']} copia(s), la más antigua ${p['oldest']} (\`respaldo delete ${p['oldest']}\` dice lo que borra).`
      : ''),
  'prune.refusedAt': (p: PhraseParams) => `destino "${p['dest']}": ${nestedEs(p)}`,
  'prune.refusedThereHint': () =>
    'Envíe antes allí una copia completa (`respaldo copy --to NOMBRE`) y vuelva a aplicar la retención.',
  'prune.aheadOfClockThereHint': (p: PhraseParams) =>
    'Revise el reloj de esta máquina (timedatectl); si lo que está mal es la fecha de la copia, bórrela allí con ' +
    `\`respaldo delete ${p['set']} --from ${p['dest']}\` y vuelva a aplicar la retención.`,
  'retention.problems': (p: PhraseParams): string =>
    [
      ...(p['notRemoved'] ? [`no se pudo borrar ${p['notRemoved']}`] : []),
      ...retentionProblems(p).map((i): string => {
        const said: string = i.phrase ? PHRASES_ES[i.phrase.id](i.phrase.params) : i.error;
        return i.error.startsWith(`destination "${i.dest}"`) ? said : `en ${i.dest}: ${said}`;
      }),
    ].join('; '),
  'config.fieldProblem': (p: PhraseParams) => `${p['file']}: ${p['field']}: ${nestedEs(p)}`,
} satisfies Record<PhraseId, (p: PhraseParams) => string>;
