import type { ScheduleJob } from '../../core/types.js';
import type { JobOutcome } from '../engine-facade.js';
import type { Catalogue } from './en.js';
import { purposeEs } from './phrases-es.js';

/** Nombres de fuentes en una línea: los cinco primeros, y cuántos más. */
const sourceNames = (names: readonly string[]) =>
  names.length > 5 ? `${names.slice(0, 5).join(', ')} y ${names.length - 5} más` : names.join(', ');

/** Spanish strings of the menu (same shape as en.ts; one file of about 585 lines, as en.ts says why). */
export const es: Catalogue = {
  lang: 'es',
  noTty:
    'El menú de respaldo necesita un terminal. Sin él use los subcomandos: respaldo create | list | show | verify | restore | scheduler | status (vea respaldo --help).',
  appName: 'respaldo',
  confirmWord: 'RESTAURAR',
  deleteWord: 'BORRAR',

  common: {
    moreLines: (n: number) => `… y ${n} línea(s) más`,
    loading: 'Cargando…',
    yes: 'sí',
    no: 'no',
    all: 'todas',
    none: 'ninguna',
    back: 'volver',
    error: 'Error',
    hint: 'Qué hacer',
    bugHint:
      'Parece un fallo de respaldo. Ejecute la misma acción con la CLI (`respaldo --help`) para ver los detalles e infórmelo.',
    pressAnyKey: 'Pulse Enter o Esc para volver',
    status: {
      completed: 'OK',
      partial: 'PARCIAL',
      failed: 'FALLÓ',
      ok: 'OK',
      running: 'EN CURSO',
      pending: 'EN ESPERA',
      warn: 'AVISO',
    },
    setType: {
      full: 'completa',
      schema: 'esquema',
      differential: 'diferencial',
      incremental: 'incremental',
      pre_restore: 'seguridad',
    },
    never: 'nunca',
    unknown: 'desconocido',
  },

  header: {
    lock: (purpose: string, pid: number, since: string) => `Ocupado: ${purposeEs(purpose)}, pid ${pid} desde ${since}`,
    lockUnreadable: 'Ocupado: el archivo de bloqueo de la carpeta de copias no se puede leer',
    more: (n: number) => (n === 1 ? '… y 1 aviso más' : `… y ${n} avisos más`),
    free: (s: string) => `${s} libres`,
    config: 'Config',
    folder: 'Copias',
    sets: (n: number) => (n === 1 ? '1 copia' : `${n} copias`),
    newest: (age: string) => `la más reciente ${age}`,
    noSets: 'aún no hay copias',
    noUsableSets: (n: number) => `ninguna copia utilizable (${n === 1 ? '1 dañada' : `${n} dañadas`}: 3. Ver copias)`,
    noSetsButSafety: (n: number) =>
      `aún no hay copias (${n === 1 ? '1 copia de seguridad previa' : `${n} copias de seguridad previas`})`,
    stale: (db: string, age: string, limit: string) =>
      `AVISO: ${db}: última copia correcta ${age}; la programación promete una cada ${limit}`,
    neverBacked: (dbs: string[]) =>
      `AVISO: ${dbs.join(', ')} nunca se ${dbs.length === 1 ? 'ha' : 'han'} copiado correctamente`,
    neverBackedCount: (n: number) => `AVISO: ${n} bases nunca se han copiado correctamente`,
    restoreFromOffsite: (names: string[]) =>
      names.length === 1
        ? `Para restaurar desde la copia externa: 4. Restaurar, luego "${names[0]}"`
        : 'Para restaurar desde una copia externa: 4. Restaurar, luego su destino',
    looseSecret: (path: string, mode: string) =>
      `AVISO: ejecute chmod 600 ${path} (modo ${mode}: otros usuarios pueden leer este archivo de clave)`,
    stoppedRestore: (id: string, when: string, restored: string[]) =>
      `AVISO: restauración ${id} interrumpida ${when}: ${restored.length ? `solo se restauró ${restored.join(', ')}` : 'sin cambios'}`,
    stoppedRestoreCount: (id: string, when: string, n: number) =>
      `AVISO: restauración ${id} interrumpida ${when}: solo ${n} bases`,
    killedRestore: (id: string, when: string, pid: number | null) =>
      `AVISO: restauración ${id} MATADA ${when}${pid === null ? '' : ` (pid ${pid})`}: vea respaldo status`,
    statusFailed: (msg: string) => `Estado no disponible: ${msg}`,
    notOffsite: (names: string) => `AVISO: la copia más reciente no se envió a ${names} (respaldo copy)`,
    drilled: (age: string, ok: boolean) => (ok ? `simulacro ${age} ✓` : `simulacro FALLIDO ${age}`),
    drillFailed: (db: string, age: string, id: string) =>
      `AVISO: ${db}: el último simulacro FALLÓ ${age} (copia ${id})`,
  },

  time: {
    ago: (s: string) => `hace ${s}`,
    justNow: 'ahora mismo',
    in: (s: string) => `en ${s}`,
  },

  help: {
    main: '↑↓/j k mover · 1-7 elegir · Enter seleccionar · q salir',
    health: '↑↓ RePág AvPág desplazar · r leer de nuevo · Esc volver',
    list: '↑↓ · Enter ver · f filtrar · v verificar · r restaurar · d borrar · Esc volver',
    details:
      '↑↓ · v verificar · V verificar + leer datos · t simular · p proteger · r restaurar · d borrar · Esc volver',
    checkboxForm: '↑↓ mover · Espacio marcar · ←→ cambiar · Enter empezar · Esc volver',
    running: 'Trabajando… Ctrl-C para interrumpir (no se guarda nada a medias)',
    busy: 'Espere… Ctrl-C sale del menú (no se cambia nada)',
    busyFetch: 'Espere… Esc deja de leerla (no se cambia nada) · Ctrl-C sale del menú',
    done: 'Enter o Esc para volver',
    confirm: 'Escriba la palabra y pulse Enter · Esc cancelar · Ctrl-C salir',
    pickSet: '↑↓ mover · Enter elegir · d simulacro · Esc volver',
    pickSetAt: '↑↓ mover · Enter elegir · t a una fecha y hora · d simulacro · Esc volver',
    pickSource: '↑↓ mover · Enter elegir · Esc volver',
    atForm: '↑↓ mover · escriba la hora · Espacio marcar · Enter seguir · Esc volver',
    passphrase: 'Escriba la frase (no se muestra) y Enter · Esc volver al plan · Ctrl-C salir',
    passphraseBack: 'Escriba la frase (no se muestra) y Enter · Esc volver · Ctrl-C salir',
    pickItems: '↑↓ mover · Espacio marcar · a todas · Enter seguir · Esc volver',
    pickTarget: '↑↓ elegir · escriba la nueva ruta o nombre · Enter seguir · Esc volver',
    pickFolder: 'escriba la carpeta (o déjela vacía) · Enter seguir · Esc volver',
    pickTables: '↑↓ mover · Espacio marcar · Enter seguir · Esc volver',
    pickPaths: 'escriba una ruta guardada · Tab listar y completar · Enter añadirla (vacía: seguir) · Esc volver',
    sessions: '↑↓ elegir · Enter confirmar · Esc volver (no se cierra nada)',
    schedule: '↑↓ · Enter editar · a añadir · x quitar · t retención · s guardar · Esc volver',
    jobForm: '↑↓ campo · ←→ cambiar · escriba texto · Enter listo · Esc cancelar',
    retentionForm: '↑↓ campo · escriba dígitos · Enter listo · Esc cancelar',
    scheduler: 'q o Ctrl-C parar tras la tarea en curso · Esc volver una vez parado',
    schedulerScroll: 'q o Ctrl-C parar tras la tarea en curso · ↑↓ RePág AvPág registro · Esc volver una vez parado',
    catchUp: 'Enter ejecutar la recuperación y empezar · s omitirla y empezar · Esc volver',
    confirmScroll: 'Escriba la palabra y pulse Enter · ↑↓ RePág AvPág desplazar · Esc cancelar · Ctrl-C salir',
    doneScroll: '↑↓ RePág AvPág desplazar · Enter o Esc para volver',
  },

  main: {
    title: 'Menú principal',
    items: [
      'Crear copia ahora',
      'Configurar copia automática',
      'Ver copias',
      'Restaurar',
      'Ejecutar el programador',
      'Salud de las copias',
      'Salir',
    ],
  },

  create: {
    title: 'Crear copia ahora',
    databases: 'Bases de datos',
    type: 'Tipo',
    typeFull: 'completa (esquema y datos)',
    typeSchema: 'solo esquema',
    typeDifferential: 'diferencial (cambios desde la última completa)',
    typeIncremental: 'incremental (cambios desde la última copia)',
    fellBack: 'Guardada como completa',
    onFull: 'Guardada como diferencial sobre la completa',
    files: 'Incluir archivos',
    filesNone: 'no hay archivos configurados',
    description: 'Descripción (opcional)',
    start: 'Empezar la copia',
    noneSelected: 'Elija al menos una base de datos o incluya los archivos.',
    running: 'Copiando…',
    summaryTitle: 'Copia terminada',
    setId: 'Copia',
    status: 'Estado',
    size: 'Tamaño guardado',
    rawSize: 'Tamaño original',
    duration: 'Duración',
    checksums: 'Sumas de control',
    checksumsOk: (n: number) => `verificadas, ${n} archivos coinciden en MD5 y SHA-256`,
    checksumsBad: (n: number) => `${n} archivos NO coinciden`,
    checksumsSkipped: 'sin verificar (la copia no tiene archivos guardados)',
    verifying: 'Verificando sumas de control…',
    dbFailed: (db: string) => `${db} falló`,
    interruptAgain: 'Pulse Ctrl-C otra vez para interrumpir la copia (no se guarda nada a medias).',
    offsite: 'Fuera',
    copiedTo: (names: string) => `copiada a ${names}`,
    notCopied: (dest: string, error: string) => `NO copiada a ${dest}: ${error}`,
    notCopiedHint: 'A salvo aquí; `respaldo copy` o la próxima copia la reenvía.',
  },

  progress: {
    files: 'archivos',
    verify: 'verificación',
    fetch: (destination: string) => `desde ${destination}`,
    rate: (r: string) => `${r}/s`,
    elapsed: (s: string) => s,
    done: 'hecho',
    failed: 'falló',
    waiting: 'en espera',
    more: (n: number, states: string) => `+${n} más: ${states}`,
  },

  list: {
    title: 'Copias',
    /** The status of a set whose chain cannot be restored (a set under it deleted, pruned or damaged). */
    broken: 'ROTA',
    columns: {
      id: 'ID',
      date: 'Fecha',
      type: 'Tipo',
      databases: 'Bases',
      size: 'Tamaño',
      status: 'Estado',
      verified: 'Verif.',
      drilled: 'Simul.',
    },
    empty: 'Aún no hay copias. Elija 1 en el menú principal para crear una.',
    emptyButDamaged: 'Ninguna copia utilizable: las de abajo están dañadas (no restaurar).',
    emptyFilter: (db: string) => `Ninguna copia contiene ${db}.`,
    filter: (db: string) => `Filtro: ${db}`,
    noFilter: 'Filtro: todas las bases',
    offsiteLegend: '! = no copiada fuera del servidor',
    rows: (from: number, to: number, total: number) => `${from}-${to} de ${total}`,
    verifiedOk: 'OK',
    verifiedBad: 'MAL',
    drilledOk: (age: string) => `✓ ${age}`,
    drilledBad: (dbs: string[]) => `✗ ${dbs.join(',')}`,
    deleted: (id: string) => `Borrada ${id}.`,
    damaged: (n: number, ids: string) =>
      `${n} copia${n === 1 ? ' dañada no mostrada' : 's dañadas no mostradas'} (\`respaldo list\` dice por qué): ${ids}`,
    damagedAt: (dest: string, n: number, ids: string) =>
      `${n} copia${n === 1 ? ' dañada' : 's dañadas'} en ${dest} no mostrada${n === 1 ? '' : 's'} (no restaurar): ${ids}`,
    /** The status of a set whose own last verification failed (a stored file changed, cut short or missing). */
    damagedStatus: 'DAÑADA',
  },

  details: {
    title: (id: string) => `Copia ${id}`,
    type: 'Tipo',
    status: 'Estado',
    started: 'Inicio',
    completed: 'Fin',
    duration: 'Duración',
    description: 'Descripción',
    job: 'Tarea',
    host: 'Equipo',
    restoreOf: 'Protege',
    totals: 'Total',
    totalsLine: (stored: string, raw: string, files: number) =>
      `${stored} guardados (${raw} originales), ${files === 1 ? '1 archivo' : `${files} archivos`}`,
    databases: 'Bases de datos',
    files: 'Archivos',
    noFiles: 'esta copia no tiene archivos',
    filesSummary: (files: number, bytes: string, groups: string) => `${files} archivos, ${bytes} (${groups})`,
    filesFirst: (n: number) => `los primeros ${n}:`,
    filesMore: (n: number, id: string) => `… y ${n} más: respaldo show ${id} los lista todos`,
    filesDamagedMore: (n: number) => `… y ${n} más dañados`,
    group: { config: 'configuración', application: 'aplicación' },
    file: 'archivo',
    size: 'tamaño',
    md5: 'md5',
    sha256: 'sha256',
    rows: 'filas',
    tables: (n: number) => (n === 1 ? '1 tabla' : `${n} tablas`),
    error: 'ERROR',
    warnings: 'Avisos',
    verifying: 'Verificando…',
    dataRead: '(cada archivo descifrado y su contenido comprobado)',
    verifyOk: (n: number) => `Verificación OK: ${n} archivos coinciden con sus sumas.`,
    verifyOkWarned: (n: number, spare: number) =>
      `Verificación OK: ${n} archivos coinciden; ${spare} que ninguna restauración lee falta o está dañado (vea su aviso).`,
    warning: 'aviso',
    verifyBad: (n: number) => `Verificación FALLIDA: ${n} archivos no coinciden.`,
    verifyChainBroken: (n: number) => `Cadena ROTA: ${n} archivos coinciden, pero la copia no se puede restaurar.`,
    chain: 'Cadena',
    chainBroken: (problem: string) => `ROTA: ${problem}`,
    chainCheck: (id: string) => `respaldo verify --chain ${id} comprueba cada copia que necesita`,
    deleteTitle: (id: string) => `¿Borrar la copia ${id}? No se puede deshacer.`,
    deleting: 'Borrando…',
    keep: 'Conservar',
    keepYes: 'sí: la limpieza nunca borra esta copia (p para deshacer)',
    keepNo: 'no: decide la retención (p para conservarla siempre)',
    offsite: 'Fuera',
    offsiteNone: 'no hay destinos configurados',
    offsiteLocal: 'aquí',
    offsiteOk: (dest: string) => `${dest}: ok`,
    offsiteMissing: (dest: string) => `${dest}: NO copiada`,
    offsiteError: (dest: string, error: string) => `${dest}: NO copiada: ${error}`,
    offsiteRemoved: (dest: string, at: string) => `${dest}: NO está: quitada con delete/prune --from el ${at}`,
    offsiteLastFailed: (dest: string, at: string, error: string) =>
      `${dest}: la copia del ${at} falló (lo que había sigue): ${error}`,
    offsiteAsRecorded: 'según lo último que respaldo anotó; los destinos no se consultaron ahora',
    kept: 'Marcada para conservar: la limpieza nunca borrará esta copia.',
    unkept: 'Marca quitada: vuelve a decidir la retención.',
    more: (n: number) => `… ${n} más`,
    drilled: 'Simulacro',
    drilledOk: (ago: string) => `${ago} ✓ restaurada y comprobada (t repite el simulacro)`,
    drilledBad: (ago: string, dbs: string[]) => `FALLÓ ${ago}: ${dbs.join(', ')} (t repite el simulacro)`,
    drillNever: 'nunca (t la restaura en un destino temporal y la comprueba)',
    drillOk: (ago: string, checks: number, took: string) =>
      `simulacro ✓ ${ago} · ${checks} comprobaciones correctas · ${took}`,
    drillBad: (ago: string, took: string) => `simulacro FALLIDO ${ago} · ${took}`,
    verified: 'Verificada',
    verifiedNever: 'nunca (v comprueba cada archivo guardado con sus sumas)',
    verifiedOk: (when: string, ago: string) => `OK ${when} (${ago})`,
    verifiedBad: (when: string, ago: string, n: number) =>
      `FALLÓ ${when} (${ago}): ${n === 0 ? 'la copia está dañada' : n === 1 ? '1 archivo guardado dañado' : `${n} archivos guardados dañados`}`,
    damagedFile: 'no coincidió en la última verificación',
    damagedDo:
      'No restaure desde esta copia: haga una copia nueva (1 en el menú principal) y revise el disco de la carpeta de copias; v la verifica de nuevo.',
    keptDamaged:
      'guardada DAÑADA: no pasaba integrity_check cuando una restauración la sustituyó; restaurarla la vuelve a poner dañada',
  },

  health: {
    title: 'Salud de las copias',
    reading: 'Leyendo las copias, los registros y los simulacros…',
    healthy: (n: number) => `Sano: ${n} base(s) de datos, nada que hacer.`,
    problems: (n: number) => `${n} problema(s): lo mismo que dicen respaldo status --check y las alertas.`,
    newest: 'Última copia',
    none: 'ninguna',
    age: (ago: string) => ago,
    every: (period: string) => `se espera cada ${period}`,
    noSchedule: 'sin horario: nada vence a una hora',
    overdue: (at: string) => `ATRASADA: falta la copia que tocaba el ${at}`,
    drill: 'Simulacro',
    drillNever: 'nunca (t en los detalles de una copia lo hace)',
    drillOk: (ago: string, id: string) => `correcto ${ago} (copia ${id})`,
    drillBad: (ago: string, id: string) => `FALLÓ ${ago} (copia ${id})`,
    runs: (ok: number, all: number) => `${ok} de ${all} copias bien en 30 días`,
    lastRestore: 'Última restauración',
    offsite: 'Fuera',
    offsiteNone: 'no hay destinos configurados',
    noneFromHere: 'ninguna desde aquí',
    offsiteLine: (dest: string, newest: string, missing: number) =>
      `${dest}: la más reciente allí ${newest}${missing ? ` · ${missing} copia(s) NO copiada(s)` : ' · todas copiadas'}`,
    offsiteError: (dest: string, id: string, ago: string, error: string) =>
      `${dest}: la copia ${id} NO se copió ${ago}: ${error}`,
    roles: 'Roles de restauraciones matadas (--create-roles; puede que nada los use)',
    rolesLine: (db: string, roles: string, server: string, id: string, at: string) =>
      `${db}: ${roles} en ${server} (copia ${id}, ${at})`,
    rolesDrop: (sql: string) => `si no los quiere: ${sql}`,
    general: 'Carpeta de copias y alertas',
    free: (free: string, min: string) => `disco libre ${free} (se piden al menos ${min})`,
    readAt: (at: string) => `Leído el ${at}; r lo lee de nuevo. Aquí nada cambia nada.`,
  },

  drill: {
    title: (id: string) => `Simulacro de restauración de la copia ${id}`,
    running: (id: string) => `Restaurando ${id} en destinos temporales (no se toca nada en uso)…`,
    interruptAgain: 'Pulse Ctrl-C otra vez para interrumpir el simulacro (se borran sus destinos temporales).',
    passed: (id: string) => `Simulacro de la copia ${id} correcto: restaurada y comprobada`,
    failed: (id: string) => `Simulacro de la copia ${id} FALLIDO`,
    result: (name: string, ok: boolean, took: string) => `${name}: ${ok ? 'CORRECTO' : 'FALLIDO'} en ${took}`,
    check: (ok: boolean, name: string, detail: string | undefined) =>
      `${ok ? '✓' : '✗'} ${name}${detail ? `: ${detail}` : ''}`,
    skipped: (name: string, why: string) => `– ${name}: omitida (${why})`,
    recovered: (what: string) => `Limpiado antes: ${what}`,
    recorded: 'Registrado junto a la copia (drilled.json); lo muestran la lista, status y la cabecera.',
    notRecorded: 'No registrado: no se pudo escribir drilled.json junto a la copia (ver el aviso de abajo).',
    titleFrom: (id: string, dest: string) => `Simulacro de restauración de la copia ${id} en el destino "${dest}"`,
    runningFrom: (id: string, dest: string) =>
      `Descargando ${id} de "${dest}" (cada archivo se comprueba al llegar) y restaurándola en destinos temporales (no se toca nada en uso)…`,
    interruptAgainFrom:
      'Pulse Ctrl-C otra vez para interrumpir el simulacro (se borran la copia descargada y sus destinos temporales).',
    fetchedFrom: (dest: string, chain: string[]) =>
      `Descargada del destino "${dest}"${chain.length ? ` con las copias de su cadena (${chain.join(', ')})` : ''}; cada archivo se comprobó al llegar.`,
    nothingKept: (dir: string) => `No se ha guardado nada de lo descargado en ${dir}.`,
    fetchedRemoved: (dir: string) => `La copia descargada se borró de ${dir}.`,
    notHere: (id: string) =>
      `No registrado: la carpeta de copias de este servidor no tiene la copia ${id}, así que no hay drilled.json que escribir (el registro diario tiene el resultado).`,
  },

  restore: {
    title: 'Restaurar',
    pickSet: 'Elija la copia desde la que restaurar',
    latest: 'la última',
    noSets: 'No hay copias desde las que restaurar.',
    noSetsOfSource: (source: string, others: readonly string[]) =>
      `No hay copias de la fuente "${source}" de este servidor aquí.` +
      (others.length
        ? ` Hay copias de otras fuentes: ${sourceNames(others)}. En un servidor nuevo, ponga en "source" de la` +
          ' configuración el nombre del servidor antiguo y vuelva a abrir el menú.'
        : ''),
    pickItems: 'Qué restaurar',
    filesItem: (n: number) => `Archivos (${n})`,
    rolesItem: 'Roles de PostgreSQL: crear los que faltan en el servidor (guardados en esta copia)',
    pickTables: (db: string) => `Tablas de ${db} que restaurar en la base nueva`,
    allTables: 'Todas las tablas: la base entera',
    rowsNote: (n: number) => (n === 1 ? '1 fila' : `${n} filas`),
    tablesNote:
      'Las tablas elegidas llegan con sus claves, índices, disparadores, secuencias y los tipos y funciones que usan.',
    pickPaths: (n: number) => `Qué archivos restaurar (la copia guarda ${n})`,
    pathsOfSet: (n: number, of: number) => `solo los de las rutas escritas: ${n} de los ${of} archivo(s) de la copia`,
    pathField: 'Ruta guardada (vacía: todos)',
    pathFieldMore: 'Otra ruta guardada (vacía: seguir)',
    pathsAdd: (n: number) => `Enter añade esta ruta: ${n} archivo(s)`,
    pathsGoOn: (n: number) => `Enter sigue con la(s) ${n} ruta(s) añadida(s) (Retroceso quita la última)`,
    pathsAddedList: (n: number, shown: number) =>
      n > shown ? `Añadidas (${n}), las ${shown} últimas:` : `Añadidas (${n}):`,
    pathsChosen: (n: number) =>
      n > 0
        ? `Enter restaura ${n} archivo(s)`
        : 'Ningún archivo ni carpeta guardados tiene esta ruta: termine su nombre (Tab lo completa)',
    pathFiles: (n: number) => (n === 1 ? '1 archivo' : `${n} archivos`),
    pathsMore: (n: number) => `… y ${n} más: escriba más de la ruta`,
    pathsNone: 'No hay nada guardado que empiece así: revise la ruta (Tab lista lo guardado donde está escrita).',
    pathsNote:
      'Un archivo o una carpeta, como los lista la copia; una carpeta trae todo lo que hay debajo. Tab lista lo guardado ahí y completa la ruta; Enter la añade, para restaurar varias.',
    nothingPicked: 'Elija al menos una base de datos o los archivos.',
    pickTarget: 'Dónde restaurar',
    inPlace: 'En su sitio: sustituir la base en uso (antes se hace una copia de seguridad)',
    sideBySide: 'Al lado: restaurar en una ruta o nombre nuevo, sin tocar la base en uso',
    newTarget: 'Nueva ruta o nombre',
    filesOnlyTarget: 'Los archivos van a una carpeta nueva, nunca sobre los que están en uso.',
    filesFolder: 'Carpeta (vacía: restored/<copia> junto a la configuración)',
    newTargetNeeded: 'Escriba la nueva ruta o nombre para restaurar al lado.',
    oneServerDatabase:
      'Un nombre nuevo recibe una sola base PostgreSQL o SQL Server: vuelva (Esc) y elija solo esa base, y luego las demás una a una; o restaure en su sitio.',
    planning: 'Preparando el plan (no se cambia nada)…',
    planTitle: 'Plan de restauración: todavía no ha cambiado nada',
    from: 'Desde la copia',
    willReplace: 'Sustituirá',
    willCreate: 'Creará',
    /** What the plan creates of the set's files (mid-sentence: after willCreate). */
    filesNoun: 'archivos',
    /** Under the files of an encrypted set restored alone (each checked as it is read). */
    filesDecryptedAsRead:
      'cada archivo guardado se descifra al leerlo y se comprueba con el manifiesto; si uno no coincide, se borra todo lo escrito',
    sizeLabel: 'tamaño',
    estimate: (size: string, source: string | undefined) =>
      `unos ${size} una vez restaurada (${source === 'recorded-database-size' ? 'tamaño de la base al copiarla' : source === 'database-file' ? 'el archivo de la base copiado' : 'estimación por el tamaño del volcado'})`,
    swapsBackLine: (kept: string, size: string) => `revierte: ${kept} (unos ${size}) vuelve a estar en uso`,
    current: (s: string) => `ahora ${s}`,
    safety: 'Copia de seguridad',
    safetyYes: (what: string) => `antes de sustituir nada se hace una copia de seguridad de ${what}`,
    safetyNone: 'no hace falta: no se sustituye nada en uso',
    rollback: 'Para deshacer',
    typeWord: (w: string) => `Escriba ${w} y pulse Enter para seguir, o Esc para cancelar:`,
    wrongWord: (w: string) => `Eso no es ${w}. No se ha hecho nada.`,
    enterAlone: 'Ese Enter llegó con otras teclas (¿pegado?): pulse Enter de nuevo, aparte.',
    running: 'Restaurando…',
    outcomeOk: 'Restauración terminada',
    outcomeFailed: 'La restauración FALLÓ: el destino quedó como estaba',
    safetySet: 'Copia de seguridad (para deshacer)',
    rollbackCmd: (id: string) => `respaldo restore ${id}`,
    restored: 'Restaurado',
    warnings: 'Avisos',
    interruptAgain: 'Pulse Ctrl-C otra vez para interrumpir la restauración (el destino queda como estaba).',
    sessionsTitle: 'Hay sesiones conectadas a la base en uso',
    sessionsIntro:
      'Restaurar en su sitio intercambia la base en uso, y eso no puede hacerse con estas sesiones conectadas. Todavía no ha cambiado nada.',
    sessionsOn: (db: string, target: string, n: number) =>
      `${db} (${target}): ${n === 1 ? '1 sesión conectada' : `${n} sesiones conectadas`}`,
    moreSessions: (n: number) => `…y ${n} más`,
    sessionsRisk:
      'Cerrarlas desconecta a esos clientes en el intercambio y deshace sus transacciones abiertas. Lo más seguro: parar antes la aplicación y volver a restaurar.',
    closeQuestion: '¿Cerrar estas sesiones en el intercambio?',
    closeNo: 'No: dejarlas conectadas y volver (no se restaura nada)',
    closeYes: 'Sí: cerrarlas en el intercambio y mostrar de nuevo el plan',
    willTerminate: (db: string, n: number) =>
      `Ha elegido cerrar ${n === 1 ? 'la sesión conectada' : `las ${n} sesiones conectadas`} a ${db} en el intercambio.`,
    scrollRows: (from: number, to: number, total: number) =>
      `líneas ${from}-${to} de ${total} · ↑↓ RePág AvPág para ver el resto`,
    safetyRemoved: (id: string) =>
      `No se reemplazó nada, así que se borró la copia de seguridad tomada para esta restauración (${id}).`,
    safetyDatabase: (db: string, safety: string, set: string) =>
      `Copia de seguridad de ${db}: base de datos ${safety} (en la copia ${set})`,
    rawSafety: (db: string, set: string) =>
      `Copia de seguridad de ${db}: copia ${set}, sus bytes tal como estaban (no era una base coherente: ninguna restauración la devuelve)`,
    rawSafetyHow: 'Para devolverlos a mano (muestra cómo)',
    rolledBack: (db: string, kept: string, set: string) =>
      `${db} revertida: ${kept} vuelve a ser la base de datos en uso; la copia ${set} ya no la incluye`,
    sourceTitle: 'Desde dónde restaurar',
    sourceLocal: (dir: string) => `La carpeta de copias de este servidor (${dir})`,
    sourceDestination: (name: string) => `Destino "${name}" (copia externa)`,
    sourceNote:
      'El plan de una copia de un destino se hace con su manifiesto; al confirmar, sus archivos se descargan y cada uno se comprueba al llegar; sin espacio aquí para ello, llegan directamente a la restauración, cada uno comprobado al leerlo. Pulse d sobre una copia para hacer un simulacro: se descarga, se restaura en destinos temporales, se comprueba y se borra; no se toca nada en uso.',
    atDestination: (name: string) => `en el destino "${name}"`,
    fetching: 'Leyendo la copia en el destino (no se cambia nada)…',
    fetchFrom: (name: string) =>
      `En el destino "${name}": sus archivos están allí. Al confirmar se descargan aquí, cada uno comprobado al llegar, antes de restaurar nada.`,
    streamedFrom: (name: string) =>
      `No hay espacio aquí para descargar la copia antes: sus archivos llegan del destino "${name}" directamente a la restauración, cada uno comprobado al leerlo.`,
    atTitle: 'A una fecha y hora',
    atTime: 'Fecha y hora',
    atPlaceholder: 'AAAA-MM-DD HH:MM (hora local)',
    atNote:
      'Se restaura la copia más reciente que termina antes de esa hora (o a esa hora), con las copias que necesita su cadena (completa, diferencial, incrementales).',
    atDatabases: 'Bases de datos',
    badTime: 'Escriba la hora como AAAA-MM-DD HH:MM (local), p. ej. 2026-11-22 14:30.',
    futureTime: 'Esa hora es posterior al reloj: no hay copias de entonces. Revise la fecha (el año, el mes).',
    ambiguousTime:
      'El reloj marcó esa hora dos veces (se atrasó esa noche): escriba cuál con su desfase UTC detrás (+HH:MM; la primera es la de verano).',
    asOf: (when: string) => `a ${when}`,
    atHead: (when: string, set: string) =>
      `Restaurar a ${when}: copia ${set}, la más reciente que termina antes de esa hora (o a esa hora).`,
    atExact: (point: string) => `El resultado son los datos a ${point}.`,
    atFiles: (set: string, point: string) =>
      `Los archivos son los que guardó la copia ${set} (terminó a ${point}); no se restaura ninguna base.`,
    atPoint: (from: string, point: string, set: string) =>
      `El resultado son los datos como los tomó la copia ${set}, entre ${from} y ${point} (cada base en el momento de su instantánea).`,
    atOrder: (n: number, size: string) => `Copias aplicadas, en orden (${n}, ${size} guardados en total):`,
    atPassed: (id: string, reason: string) => `descartada ${id}: ${reason}`,
    passphraseTitle: 'Frase de paso de la clave',
    passphraseIntro: (file: string) =>
      `La copia está cifrada y su clave (${file}) está protegida con una frase de paso. Todavía no ha cambiado nada.`,
    passphraseLabel: 'Frase de paso',
    unlocking: 'Abriendo la clave…',
    setPassphraseTitle: 'Frase de paso de las copias',
    setPassphraseIntro: (id: string) =>
      `La copia ${id} está cifrada con una frase de paso y no hay ningún archivo configurado que la guarde (encryption.passphraseFile). Escríbala para descifrar la copia. Todavía no ha cambiado nada.`,
    checkingPassphrase: 'Comprobando la frase de paso…',
  },

  schedule: {
    title: 'Copia automática',
    jobs: 'Tareas',
    noJobs: 'No hay tareas: nada se ejecuta solo. Pulse a para añadir una.',
    retention: 'Retención',
    retentionLine: (r: { keepLast: number; daily: number; weekly: number; monthly: number; yearly: number }) =>
      `conservar últimas ${r.keepLast}, diarias ${r.daily}, semanales ${r.weekly}, mensuales ${r.monthly}, anuales ${r.yearly}`,
    saved: 'Guardado en el archivo de configuración.',
    restartScheduler:
      'Hay un programador de copias en marcha en esta carpeta de copias: leyó la configuración al arrancar. Reinícielo (o su servicio) para aplicar los cambios.',
    unsaved: 'Cambios sin guardar: pulse s para guardar.',
    discard: 'Cambios sin guardar. Pulse Esc otra vez para descartarlos, s para guardar.',
    jobTitle: 'Tarea',
    name: 'Nombre',
    frequency: 'Frecuencia',
    freq: { daily: 'diaria', weekly: 'semanal', monthly: 'mensual', cron: 'expresión cron' },
    time: 'Hora (HH:MM)',
    weekday: 'Día de la semana',
    monthday: 'Día del mes',
    cron: 'Expresión cron',
    timezone: 'Zona horaria (opcional)',
    type: 'Tipo de copia',
    jobType: {
      full: 'completa',
      differential: 'diferencial',
      incremental: 'incremental',
      schema: 'esquema',
      verify: 'verificar',
      drill: 'simulacro',
    } satisfies Record<ScheduleJob['type'], string>,
    databases: 'Bases de datos',
    dbAll: 'todas',
    files: 'Incluir archivos',
    nextRuns: 'Próximas 5 ejecuciones',
    invalid: 'No válido',
    keepLast: 'Conservar últimas',
    daily: 'Diarias',
    weekly: 'Semanales',
    monthly: 'Mensuales',
    yearly: 'Anuales',
    weekdays: ['domingo', 'lunes', 'martes', 'miércoles', 'jueves', 'viernes', 'sábado'],
    badTime: 'La hora debe ser HH:MM (00:00 a 23:59).',
    lastDay: 'último día',
    badName: 'Nombre: letras, dígitos, _ . - (sin empezar por . o -).',
    duplicateName: 'Otra tarea tiene este nombre.',
    badNumber: 'Use números enteros, 0 o más.',
    saving: 'Guardando…',
  },

  scheduler: {
    retention: (removed: string[], kept: number, notCopied: string[] = []) =>
      (removed.length
        ? `retención: borradas ${removed.join(', ')}; ${kept} conservadas`
        : `retención: nada que borrar; ${kept} conservadas`) +
      (notCopied.length ? ` (${notCopied.length} hasta copiarse fuera: ${notCopied.join(', ')})` : ''),
    skipped: (job: string, why: string, running: string) =>
      why === 'stopping'
        ? `${job} no se ejecuta: el programador se detiene (el próximo inicio lo recupera)`
        : why === 'waiting'
          ? `${job} omitida: ya está en espera`
          : why === 'running'
            ? `${job} omitida: aún se está ejecutando`
            : `${job} omitida: ${running} aún se está ejecutando`,
    queued: (job: string, running: string) => `${job} espera a que termine ${running}`,
    retentionSkipped: (outcome: string) =>
      outcome === 'aborting'
        ? 'sin limpieza de copias antiguas: el programador se está abortando'
        : `sin limpieza de copias antiguas: la ejecución terminó ${outcome}`,
    catchUpRuns: (jobs: string[]) => `recuperación: se ejecuta ${jobs.join(', ')} una vez ahora`,
    catchUpInstead: (after: string, jobs: string[]) =>
      `recuperación: ${after} no terminó; se ejecuta ${jobs.join(', ')} en su lugar`,
    stoppingLog: (job: string | null) =>
      job ? `se termina ${job} y luego se detiene; repita la señal para abortarlo` : 'deteniendo',
    abortingLog: (job: string) => `abortando ${job}`,
    retentionFailed: (msg: string) => `retención FALLÓ: ${msg}`,
    outcome: {
      completed: 'OK',
      partial: 'PARCIAL',
      failed: 'FALLÓ',
      interrupted: 'INTERRUMPIDA',
      verified: 'VERIFICADA',
      'verify-failed': 'VERIFICACIÓN FALLIDA',
      drilled: 'SIMULACRO OK',
      'drill-failed': 'SIMULACRO FALLIDO',
    } satisfies Record<JobOutcome, string>,
    lastOutcome: 'Última',
    startFailed: 'El programador no pudo arrancar.',
    abortedCode: (code: number) => `Parado (código de salida ${code}).`,
    title: 'Programador (en primer plano)',
    noJobs: 'No hay tareas configuradas. Use 2 en el menú principal para añadir una.',
    job: 'Tarea',
    when: 'Cuándo',
    nextRun: 'Próxima',
    ok: 'correctas',
    failed: 'fallidas',
    counts: (ok: number, failed: number) => `desde el inicio: ${ok} correctas, ${failed} fallidas`,
    running: 'En curso',
    stopping: 'Parando tras la tarea en curso…',
    stopped: 'Parado.',
    ctrlCAgain:
      'Hay una tarea en curso. Pulse Ctrl-C otra vez para abortarla de forma segura (no se guarda nada a medias).',
    aborting: 'Abortando la tarea en curso…',
    started: (job: string) => `${job}: empezó`,
    finished: (job: string, status: string, id: string) => `${job}: ${status} ${id}`,
    failedLine: (job: string, msg: string) => `${job}: FALLÓ: ${msg}`,
    idle: 'Esperando la próxima ejecución.',
    checking: 'Buscando ejecuciones perdidas mientras el programador estaba parado…',
    catchUpIntro: 'Perdidas mientras el programador no estaba en marcha. Se recuperan, una a una:',
    catchUpRun: (job: string, what: string, missed: string) => `${job}: ${what}, perdida el ${missed}`,
    catchUpCovers: (jobs: string[]) => `cubre también las perdidas de ${jobs.join(', ')} (sin ejecución aparte)`,
    catchUpSatisfied: (job: string, by: string) => `${job}: ya cubierta por la última ejecución de ${by}`,
    catchUpWhat: (type: string) =>
      ({
        verify: 'verificación',
        drill: 'simulacro de restauración',
        full: 'copia completa',
        differential: 'copia diferencial',
        incremental: 'copia incremental',
        schema: 'copia del esquema',
      })[type] ?? type,
    catchUpSkipNote: 'Las tareas omitidas se ejecutan a su próxima hora programada.',
    catchUpSkipped: 'recuperación omitida: las tareas se ejecutan a su próxima hora',
  },
};
