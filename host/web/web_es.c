/*
 * web_es.c - Spanish for the server's own words (see web_es.h).
 */
#include "web_es.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    leal_err err;
    const char *es;
} errors[] = {
    {LEAL_E_ARG, "argumento no válido dentro de leal; por favor, informe de ello"},
    {LEAL_E_NO_MEMORY, "sin memoria"},
    {LEAL_E_IO,
     "error de entrada/salida; revise el fichero o el dispositivo y vuelva a intentarlo"},
    {LEAL_E_NO_SPACE, "búfer de salida demasiado pequeño"},
    {LEAL_E_NOT_FOUND, "no encontrado"},
    {LEAL_E_TOO_LARGE, "los datos superan el tamaño permitido"},
    {LEAL_E_CRYPTO, "error de la biblioteca criptográfica"},
    {LEAL_E_RANDOM, "falló el generador de números aleatorios del sistema"},
    {LEAL_E_UNKNOWN_PROGRAM, "programa desconocido; 'leal keys list' muestra los programas"},
    {LEAL_E_DB, "error de la base de datos"},
    {LEAL_E_DB_BUSY, "la base de datos está ocupada; vuelva a intentarlo"},
    {LEAL_E_DB_CORRUPT, "el fichero de la base de datos está dañado; restáurelo de una copia"},
    {LEAL_E_UNKNOWN_ID, "no existe ese id"},
    {LEAL_E_CARD_STATUS_CHANGE, "una tarjeta no puede pasar a ese estado desde el actual"},
    {LEAL_E_NO_LEDGER, "no hay un libro mayor ahí; cree uno con 'leal ledger init' o revise --db"},
    {LEAL_E_DATE, "fecha mal escrita; escríbala como AAAA-MM-DD"},
    {LEAL_E_TEXT, "texto demasiado largo (255 bytes como mucho), no UTF-8 o con caracteres de "
                  "control"},
    {LEAL_E_SETTLE_NOT_COLLECTIVE,
     "la liquidación es entre las tiendas de un programa colectivo; este programa no lo es"},
    {LEAL_E_SETTLE_ORDER,
     "ya hay un periodo posterior liquidado; los periodos se liquidan en orden"},
    {LEAL_E_WEB_SIGN_IN, "usuario o contraseña incorrectos (o el usuario está desactivado)"},
    {LEAL_E_WEB_RATE_LIMIT, "demasiados intentos fallidos para este usuario o esta dirección; "
                            "espere un minuto y vuelva a intentarlo"},
    {LEAL_E_WEB_SESSION, "no ha iniciado sesión, o la sesión ha terminado; vuelva a entrar"},
    {LEAL_E_WEB_CSRF, "a la petición le falta el token CSRF de esta sesión; recargue la página y "
                      "vuelva a intentarlo"},
    {LEAL_E_WEB_FORBIDDEN, "el rol o las tiendas de este usuario no lo permiten"},
    {LEAL_E_WEB_ROLE, "rol desconocido; los roles son admin, manager y staff (manager y staff "
                      "necesitan --store ID)"},
    {LEAL_E_WEB_PASSWORD, "contraseña rechazada: necesita de 10 a 128 caracteres"},
    {LEAL_E_WEB_NO_USER, "no existe ese usuario; 'leal user list' los muestra"},
    {LEAL_E_WEB_LANG, "idioma desconocido; la oficina habla en (inglés) y es (español)"},
    {LEAL_E_REPORT_RANGE, "el --to del informe es anterior a su --from; dé el primer día y luego "
                          "el último"},
    {LEAL_E_REPORT_SCHEMA, "el libro mayor tiene otra versión de esquema que este leal; ábralo "
                           "una vez con 'leal ledger verify' para migrarlo y luego informe"},
    {LEAL_E_REPORT_EMPTY, "el informe no tiene filas en ese periodo, así que no hay gráfico que "
                          "dibujar; amplíe --from/--to"},
    {LEAL_E_MAIL_ADDRESS, "una dirección o cabecera de correo no es válida (una '@', sin "
                          "espacios, saltos de línea ni caracteres de control); corríjala"},
    {LEAL_E_PORTAL_LINK_UNKNOWN, "este enlace de acceso no se conoce aquí; pida uno nuevo"},
    {LEAL_E_PORTAL_LINK_USED, "este enlace de acceso ya se ha usado; pida uno nuevo"},
    {LEAL_E_PORTAL_LINK_EXPIRED,
     "este enlace de acceso ha caducado (duran 15 minutos); pida uno nuevo"},
    {LEAL_E_WEB_SELF, "nadie cambia su propio rol o tiendas ni se desactiva a sí mismo; lo hace "
                      "otro administrador o gerente"},
    {LEAL_E_CATALOGUE_REFUSED, "rechazado; el catálogo queda como estaba"},
    {LEAL_E_NOTE_AUTHOR, "solo el autor de la nota, o un gerente o administrador de su tienda, "
                         "puede cambiarla o borrarla"},
    {LEAL_E_ERASURE_PENDING, "la solicitud de borrado de este cliente ya está registrada y "
                             "pendiente; la ejecuta un administrador ('leal customer erase')"},
    {LEAL_E_ERASURE_NONE, "este cliente no tiene una solicitud de borrado pendiente; un gerente "
                          "o administrador registra antes la solicitud del cliente"},
    {LEAL_E_CARD_LAST, "es la única tarjeta activa de la cuenta; bloquéela, o añada antes otra "
                       "tarjeta en el mostrador ('leal account add-card')"},
    {LEAL_E_WEB_RESET_TOKEN, "este enlace para cambiar la contraseña no existe, ya se ha usado o "
                             "ha caducado; pida otro en la página de entrada"},
    {LEAL_E_QR_ENROL_LIMIT, "demasiados móviles configurados para este cliente o desde esta "
                            "dirección; inténtelo de nuevo dentro de una hora"},
    {LEAL_E_RULES_PROGRAM,
     "las reglas del programa no son válidas (una tasa, un nivel, una regla, una tarjeta de "
     "sellos o un premio fuera de rango o de orden); corríjalas antes de que una venta las use"},
    {LEAL_E_PORTAL_SESSION,
     "no ha entrado en el portal, o la sesión ha terminado; pida un enlace de acceso"},
    {LEAL_E_PORTAL_PIN, "el número de tarjeta o el PIN no es correcto; el sexto intento en un "
                        "minuto se rechaza, y diez PIN erróneos seguidos lo bloquean hasta que "
                        "el mostrador ponga uno nuevo"},
    {LEAL_E_PORTAL_PIN_FORMAT, "un PIN tiene de 4 a 8 cifras"},
    {LEAL_E_PORTAL_PIN_LOCKED, "el PIN de esta tarjeta está bloqueado tras diez intentos "
                               "erróneos; pida uno nuevo en el mostrador de la tienda"},
    {LEAL_E_PORTAL_CARD_BLOCKED, "esta tarjeta está bloqueada; entre con el enlace por correo o "
                                 "pregunte en el mostrador de la tienda"},
    {LEAL_E_PORTAL_REDEEM_KIND, "un premio de porcentaje depende de una compra: se canjea en la "
                                "caja, no desde el portal"},
    {LEAL_E_RULES_POINTS, "no tiene puntos suficientes para este premio; no se ha canjeado nada"},
    {LEAL_E_RULES_TIER, "su nivel es inferior al que pide este premio; no se ha canjeado nada"},
};

static const struct {
    const char *en, *es;
} details[] = {
    {"the customer", "el cliente"},
    {"the session", "la sesión"},
    {"the server is stopping", "el servidor se está deteniendo"},
    {"the rules", "las reglas"},
    {"the history", "el historial"},
    {"the card", "la tarjeta"},
    {"the body is over 64 KiB", "el cuerpo pasa de 64 KiB"},
    {"that program is another store's", "ese programa es de otra tienda"},
    {"no earning rule with that id", "no hay una regla de acumulación con ese id"},
    {"method", "método"},
    {"a session token", "un token de sesión"},
    {"this user's role", "el rol de este usuario"},
    {"this customer belongs to another store", "este cliente es de otra tienda"},
    {"this card belongs to another store", "esta tarjeta es de otra tienda"},
    {"the users", "los usuarios"},
    {"the user's stores", "las tiendas del usuario"},
    {"the user", "el usuario"},
    {"the terminals", "los terminales"},
    {"the stores' time zone", "la zona horaria de las tiendas"},
    {"the simulation", "la simulación"},
    {"the server runs without the ledger's file",
     "el servidor funciona sin el fichero del libro mayor"},
    {"the search", "la búsqueda"},
    {"the rewards", "los premios"},
    {"the link", "el enlace"},
    {"the ledger's snapshot", "la instantánea del libro mayor"},
    {"the hot list", "la lista negra"},
    {"the chart", "el gráfico"},
    {"the card's status", "el estado de la tarjeta"},
    {"the card's history", "el historial de la tarjeta"},
    {"the body is not a JSON object", "el cuerpo no es un objeto JSON"},
    {"the balances and cards", "los saldos y las tarjetas"},
    {"the audit log", "el registro de auditoría"},
    {"the audit line", "la línea de auditoría"},
    {"the QR code", "el código QR"},
    {"sign-in needs \"name\" and \"password\"", "para entrar hacen falta \"name\" y \"password\""},
    {"send the body as application/json", "envíe el cuerpo como application/json"},
    {"say why in \"reason\"", "diga el motivo en \"reason\""},
    {"no such portal route", "no existe esa ruta del portal"},
    {"no such API route", "no existe esa ruta de la API"},
    {"no program to show", "no hay ningún programa que mostrar"},
    {"name the customer's \"program\"", "indique el \"program\" del cliente"},
    {"a consent \"channel\" is email, sms, phone, post or whatsapp",
     "el \"channel\" de un consentimiento es email, sms, phone, post o whatsapp"},
    {"consent \"purposes\" are marketing, service and profiling, with commas",
     "los \"purposes\" de un consentimiento son marketing, service y profiling, con comas"},
    {"\"consent\" must be a list of 1 to 32 changes",
     "\"consent\" debe ser una lista de 1 a 32 cambios"},
    {"each consent change needs \"channel\" (text) and \"granted\" (true or false), and may "
     "have \"purposes\", \"evidence\" and \"text_version\" (text)",
     "cada cambio de consentimiento lleva \"channel\" (texto) y \"granted\" (true o false), y "
     "puede llevar \"purposes\", \"evidence\" y \"text_version\" (texto)"},
    {"the balances, cards and consent", "los saldos, tarjetas y consentimientos"},
    {"the consent", "el consentimiento"},
    {"drawing the QR code", "al dibujar el código QR"},
    {"customers", "clientes"},
    {"before is an entry number; limit is 1 to 50",
     "before es un número de asiento; limit va de 1 a 50"},
    {"?program= takes a program's id", "?program= lleva el id de un programa"},
    {"?program= names no program", "?program= no nombra ningún programa"},
    {"send \"role\": admin, manager or staff and \"stores\": [store ids] (none for an admin)",
     "envíe \"role\": admin, manager o staff y \"stores\": [ids de tienda] (ninguna para un "
     "admin)"},
    {"a manager gives only their own stores, to staff and managers",
     "un gerente solo da sus propias tiendas, a personal y gerentes"},
    {"this user belongs to another store", "este usuario es de otra tienda"},
    {"a new user needs \"name\", \"password\", \"role\" and \"stores\"",
     "un usuario nuevo necesita \"name\", \"password\", \"role\" y \"stores\""},
    {"the password", "la contraseña"},
    {"no such tier, reward, stamp card or bono kind",
     "no existe ese nivel, premio, tarjeta de sellos o tipo de bono"},
    {"the rules with this change", "las reglas con este cambio"},
    {"send {\"part\": tier, reward, stamp or bono, \"id\": which, \"name\" and that part's own "
     "fields in their bounds}",
     "envíe {\"part\": tier, reward, stamp o bono, \"id\": cuál, \"name\" y los campos de "
     "esa parte dentro de sus límites}"},
    {"send {\"disabled\": true or false} and/or {\"password\": a new one}",
     "envíe {\"disabled\": true o false} y/o {\"password\": una nueva}"},
    {"\"email\" (name@example.com, or \"\" for none)",
     "\"email\" (nombre@ejemplo.com, o \"\" para ninguno)"},
    {"send {\"email\": an address, or \"\" for none}",
     "envíe {\"email\": una dirección, o \"\" para ninguna}"},
    {"the program", "el programa"},
    {"send {\"block\": true or false, \"reason\": why} with a reason",
     "envíe {\"block\": true o false, \"reason\": motivo} con un motivo"},
    {"send {\"rule\": ID, \"multiplier_milli\": 0..100000 and/or \"bonus_points\": 0..1000000}",
     "envíe {\"rule\": ID, \"multiplier_milli\": 0..100000 y/o \"bonus_points\": 0..1000000}"},
    {"\"from\" and \"to\" take dates, YYYY-MM-DD", "\"from\" y \"to\" llevan fechas, AAAA-MM-DD"},
    {"sign-in needs \"card\" (its number) and \"pin\"",
     "para entrar hacen falta \"card\" (su número) y \"pin\""},
    {"send {\"reward\": its id, \"key\": 16 to 64 letters, digits or '-'}",
     "envíe {\"reward\": su id, \"key\": de 16 a 64 letras, cifras o '-'}"},
    {"no reward with that id", "no hay ningún premio con ese id"},
    {"to add, send {\"op\": \"add\", \"part\", \"name\" and the part's fields: tier "
     "threshold_euros; reward kind (product, voucher, percent or cashback), cost_points, value; "
     "stamp goal, reward (and per: sale or item); bono sessions, price_cents}",
     "para añadir, envíe {\"op\": \"add\", \"part\", \"name\" y los campos de la parte: tier "
     "threshold_euros; reward kind (product, voucher, percent o cashback), cost_points, value; "
     "stamp goal, reward (y per: sale o item); bono sessions, price_cents}"},
    {"to remove, send {\"op\": \"remove\", \"part\" and \"id\"} and no fields",
     "para quitar, envíe {\"op\": \"remove\", \"part\" e \"id\"} y ningún campo"},
    {"a note needs its \"text\"", "una nota necesita su \"text\""},
    {"send {\"reason\": why} with a reason", "envíe {\"reason\": motivo} con un motivo"},
    {"only an active card is detached", "solo se separa una tarjeta activa"},
    {"the note", "la nota"},
    {"the notes and erasure request", "las notas y la solicitud de borrado"},
    {"the erasure request", "la solicitud de borrado"},
    {"this customer was erased before", "este cliente ya se borró antes"},
    {"\"channel\" is desk, email, post, phone or portal",
     "\"channel\" es desk, email, post, phone o portal"},
    {"an erasure request needs \"asked_on\" (YYYY-MM-DD) and \"channel\" (desk, email, post, "
     "phone or portal)",
     "una solicitud de borrado necesita \"asked_on\" (AAAA-MM-DD) y \"channel\" (desk, email, "
     "post, phone o portal)"},
    {"the ledger is busy; try the erasure again",
     "el libro mayor está ocupado; vuelva a intentar el borrado"},
    {"this server has no ledger file to erase in",
     "este servidor no tiene un fichero de libro mayor en el que borrar"},
    /* Formats of texts built at run time (web_textf): the same conversions, in order. */
    {"\"%s\" must be text of at most %zu bytes",
     "\"%s\" debe ser un texto de %zu bytes como mucho"},
    {"?%s= takes a date, YYYY-MM-DD", "?%s= lleva una fecha, AAAA-MM-DD"},
    {"tier %u already has that name", "el nivel %u ya se llama así"},
    {"reward %u already has that name", "el premio %u ya se llama así"},
    {"stamp card %u already has that name", "la tarjeta de sellos %u ya se llama así"},
    {"bono %u already has that name", "el bono %u ya se llama así"},
    {"there are %u tiers already (the most)", "ya hay %u niveles (el máximo)"},
    {"tier %u already starts at %u euros", "el nivel %u ya empieza en %u euros"},
    {"there is no tier %u", "no hay ningún nivel %u"},
    {"reward %u asks for tier %u; remove it or the tier stays",
     "el premio %u pide el nivel %u; quítelo o el nivel se queda"},
    {"there are %u rewards already (the most)", "ya hay %u premios (el máximo)"},
    {"there is a reward %u already", "ya hay un premio %u"},
    {"there is no reward %u", "no hay ningún premio %u"},
    {"stamp card %u hands over reward %u; remove it or the reward stays",
     "la tarjeta de sellos %u entrega el premio %u; quítela o el premio se queda"},
    {"there are %u stamp cards already (what a card holds)",
     "ya hay %u tarjetas de sellos (las que caben en una tarjeta)"},
    {"there is no reward %u for the stamp card to hand over",
     "no hay ningún premio %u que la tarjeta de sellos pueda entregar"},
    {"there is no stamp card %u", "no hay ninguna tarjeta de sellos %u"},
    {"only the last stamp card (%u) can be removed: cards keep their stamps by position",
     "solo se puede quitar la última tarjeta de sellos (%u): las tarjetas guardan sus sellos por "
     "posición"},
    {"there are %u bono kinds already (the most)", "ya hay %u tipos de bono (el máximo)"},
    {"there is a bono %u already", "ya hay un bono %u"},
    {"there is no bono %u", "no hay ningún bono %u"},
    {"the reward", "el premio"},
};

size_t web_es_details(const char **en, const char **es, size_t i)
{
    if (i >= sizeof details / sizeof details[0])
        return 0;
    *en = details[i].en;
    *es = details[i].es;
    return sizeof details / sizeof details[0];
}

const char *web_es_error(leal_err err)
{
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        if (errors[i].err == err)
            return errors[i].es;
    return NULL;
}

const char *web_es_detail(const char *en)
{
    for (size_t i = 0; en && i < sizeof details / sizeof details[0]; i++)
        if (strcmp(details[i].en, en) == 0)
            return details[i].es;
    return NULL;
}

/* The q of one Accept-Language item's parameters (";q=0.5"), 1 without one. */
static double item_q(const char *p, const char *end)
{
    for (; p < end; p++) {
        if (*p == 'q' && p + 1 < end && p[1] == '=') {
            char num[8] = {0};
            size_t n = (size_t)(end - (p + 2));
            memcpy(num, p + 2, n < sizeof num - 1 ? n : sizeof num - 1);
            return strtod(num, NULL);
        }
    }
    return 1.0;
}

const char *web_es_accept(const char *header)
{
    const char *best = "en";
    double best_q = 0.0;
    for (const char *p = header; p && *p;) {
        const char *end = strchr(p, ','), *semi;
        if (end == NULL)
            end = p + strlen(p);
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        semi = memchr(p, ';', (size_t)(end - p));
        if (semi == NULL)
            semi = end;
        /* The primary subtag: "es" of "es-ES", case ignored. */
        if (semi - p >= 2 && (semi - p == 2 || p[2] == '-') &&
            (tolower((unsigned char)p[0]) == 'e')) {
            char second = (char)tolower((unsigned char)p[1]);
            double q = item_q(semi, end);
            if ((second == 's' || second == 'n') && q > best_q) {
                best_q = q;
                best = second == 's' ? "es" : "en";
            }
        }
        p = *end ? end + 1 : end;
    }
    return best;
}
