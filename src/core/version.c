/* Version of the loaded library. */
#include "imgsync/version.h"

const char *imgsync_version(void) { return IMGSYNC_VERSION_STRING; }

int imgsync_version_num(void) { return IMGSYNC_VERSION_NUM; }
