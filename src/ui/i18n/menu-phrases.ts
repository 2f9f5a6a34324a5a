import type { PhraseId, PhraseParams } from '../../core/phrases.js';

/**
 * The engine's sentences that the menu says its own way: the hints that name a CLI option the menu does not have
 * (`--to`: the menu's "Side by side" and the path or name typed there; `--terminate-connections`: the menu asks).
 * The CLI keeps the engine's words; every other phrase is said as src/ui/i18n/index.ts `say` says it.
 */
type MenuPhrases = Partial<Record<PhraseId, (p: PhraseParams) => string>>;

const EN = {
  'plan.diskShort': (p: PhraseParams) =>
    `${p['dbs']}: restoring needs about ${p['needed']} on the disk of ${p['path']}, which has ${p['free']} free: ` +
    'the restore would fill it and fail (what it replaces stays as it is). ' +
    'Free space there first, or go back (Esc) and restore Side by side, to a path on another disk.',
  'refuse.schemaInPlaceHint': () => 'Go back (Esc) and choose Side by side with a new name, or pick a full set.',
  'refuse.targetExistsHint': () => 'Go back (Esc) and type another new path or name under Side by side.',
  'refuse.readOnlyInPlaceHint': () =>
    'Go back (Esc) and restore Side by side (that reads the folder as it is), or remount the disk read-write ' +
    '(after I/O errors, check `dmesg` first), then restore in place.',
  'refuse.fullInPlaceHint': () =>
    'Go back (Esc) and restore Side by side, to a path on another disk (that needs no room in the backup folder), ' +
    'or free space there (option 3 lists the sets; d deletes one), then restore in place.',
  'refuse.fullInPlaceServerHint': () =>
    'Go back (Esc) and restore Side by side, into a new database (that needs no room in the backup folder), or ' +
    'free space there (option 3 lists the sets; d deletes one), then restore in place.',
  'refuse.sessionsHint': () =>
    'Stop the application; or, once nothing else stops this restore, the menu asks whether to close them at the swap.',
  'refuse.filesTargetHint': () => 'Go back (Esc) and type an empty or new folder for the files.',
  'refuse.missingRolesStoredHint': () =>
    'This set stored its roles: go back (Esc) and tick "PostgreSQL roles: create those missing on the server" ' +
    '(only missing roles are created; existing ones are not changed).',
  'error.diskFullSafetyHint': () =>
    'Free space there (option 3 lists the sets; d deletes one), or point "backupDir" at a bigger disk, then restore ' +
    'again; or restore Side by side instead, which needs no safety copy. Nothing was changed.',
  'restore.safetyNotTakenHint': () => 'Fix the problem above, or go back (Esc) and restore Side by side.',
  'restore.diskFullTargetHint': () =>
    'The target was not changed and the partial copy was removed. Free space on that disk, or restore Side by side ' +
    'onto another disk.',
} satisfies MenuPhrases;

const ES = {
  'plan.diskShort': (p: PhraseParams) =>
    `${p['dbs']}: restaurar necesita unos ${p['needed']} en el disco de ${p['path']}, que tiene ${p['free']} ` +
    'libres: la restauración lo llenaría y fallaría (lo que reemplaza queda como está). ' +
    'Libere espacio allí antes, o vuelva atrás (Esc) y restaure Al lado, en una ruta de otro disco.',
  'refuse.schemaInPlaceHint': () =>
    'Vuelva atrás (Esc) y elija Al lado con un nombre nuevo, o elija una copia completa.',
  'refuse.targetExistsHint': () => 'Vuelva atrás (Esc) y escriba otra ruta o nombre nuevo en Al lado.',
  'refuse.readOnlyInPlaceHint': () =>
    'Vuelva atrás (Esc) y restaure Al lado (lee la carpeta tal como está), o vuelva a montar el disco en lectura ' +
    'y escritura (tras errores de E/S, mire antes `dmesg`) y restaure en su sitio.',
  'refuse.fullInPlaceHint': () =>
    'Vuelva atrás (Esc) y restaure Al lado, en una ruta de otro disco (no necesita espacio en la carpeta de ' +
    'copias), o libere espacio allí (la opción 3 lista las copias; d borra una) y restaure en su sitio.',
  'refuse.fullInPlaceServerHint': () =>
    'Vuelva atrás (Esc) y restaure Al lado, en una base nueva (no necesita espacio en la carpeta de copias), o ' +
    'libere espacio allí (la opción 3 lista las copias; d borra una) y restaure en su sitio.',
  'refuse.sessionsHint': () =>
    'Detenga la aplicación; o, cuando nada más impida esta restauración, el menú le preguntará si cerrarlas en el ' +
    'cambio.',
  'refuse.filesTargetHint': () => 'Vuelva atrás (Esc) y escriba una carpeta vacía o nueva para los archivos.',
  'error.diskFullSafetyHint': () =>
    'Libere espacio allí (la opción 3 lista las copias; d borra una), o lleve "backupDir" a un disco mayor, y ' +
    'vuelva a restaurar; o restaure Al lado, que no necesita copia previa. No se cambió nada.',
  'refuse.missingRolesStoredHint': () =>
    'Esta copia guardó sus roles: vuelva atrás (Esc) y marque "Roles de PostgreSQL: crear los que faltan en el ' +
    'servidor" (solo se crean los que faltan; los existentes no se cambian).',
  'restore.safetyNotTakenHint': () => 'Corrija el problema de arriba, o vuelva atrás (Esc) y restaure Al lado.',
  'restore.diskFullTargetHint': () =>
    'El destino no cambió y la copia a medias se borró. Libere espacio en ese disco, o restaure Al lado en otro disco.',
} satisfies Record<keyof typeof EN, (p: PhraseParams) => string>;

/** The menu's own wording of a phrase, by language; absent when the menu says the phrase as the engine does. */
export const MENU_PHRASES: Record<'en' | 'es', MenuPhrases> = { en: EN, es: ES };
