/* esximg/esximg.h: the whole public interface of libesximg. */
#ifndef ESXIMG_ESXIMG_H
#define ESXIMG_ESXIMG_H

#include "esximg/bootcfg.h"
#include "esximg/depot.h"
#include "esximg/drivermap.h"
#include "esximg/elf.h"
#include "esximg/err.h"
#include "esximg/hostpci.h"
#include "esximg/hostvibs.h"
#include "esximg/image.h"
#include "esximg/imgbuild.h"
#include "esximg/imgdb.h"
#include "esximg/imgdiff.h"
#include "esximg/imgedit.h"
#include "esximg/imgexport.h"
#include "esximg/io.h"
#include "esximg/iso.h"
#include "esximg/isohybrid.h"
#include "esximg/isocreate.h"
#include "esximg/isowrite.h"
#include "esximg/kickstart.h"
#include "esximg/lspci.h"
#include "esximg/modlist.h"
#include "esximg/modname.h"
#include "esximg/pciids.h"
#include "esximg/upgrade.h"
#include "esximg/vib.h"
#include "esximg/vibauthor.h"
#include "esximg/vibrel.h"
#include "esximg/vmtar.h"

#endif
